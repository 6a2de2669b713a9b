/** The two BlobStore methods the sweeper needs (src/storage's stores have exactly these). */
export interface SweepableStore {
  list(): AsyncIterable<{ key: string; lastModified: Date }>;
  delete(key: string): Promise<void>;
}

/** What the sweeper asks the catalogue: which of these keys does a live row reference? */
export interface BlobReferences {
  referencedBlobKeys(keys: readonly string[]): Promise<Set<string>>;
}

export interface SweepOptions {
  store: SweepableStore;
  images: BlobReferences;
  /**
   * Grace period. The blob is written before its row, so a young blob without a row may be one whose row
   * is about to be inserted: only blobs older than this are candidates.
   */
  olderThanMs: number;
  /** Keys to leave alone whatever their age (e.g. another feature's files sharing the store). */
  keep?: (key: string) => boolean;
  now?: Date;
  /** Keys checked against the catalogue per query. */
  batchSize?: number;
}

export interface SweepResult {
  scanned: number;
  deleted: number;
  deletedKeys: string[];
}

/** Deletes blobs older than the grace period that no live catalogue row references. */
export async function sweepOrphanBlobs(options: SweepOptions): Promise<SweepResult> {
  if (!Number.isFinite(options.olderThanMs) || options.olderThanMs < 0) {
    throw new RangeError('olderThanMs must be a non-negative number');
  }
  const cutoff = (options.now ?? new Date()).getTime() - options.olderThanMs;
  const batchSize = options.batchSize ?? 500;
  const result: SweepResult = { scanned: 0, deleted: 0, deletedKeys: [] };
  let candidates: string[] = [];

  const flush = async () => {
    if (candidates.length === 0) return;
    const batch = candidates;
    candidates = [];
    // Asked after listing, so a row inserted meanwhile for an old blob (a content-addressed re-upload)
    // protects it.
    const referenced = await options.images.referencedBlobKeys(batch);
    for (const key of batch) {
      if (referenced.has(key)) continue;
      await options.store.delete(key);
      result.deleted++;
      result.deletedKeys.push(key);
    }
  };

  for await (const blob of options.store.list()) {
    result.scanned++;
    if (blob.lastModified.getTime() > cutoff) continue;
    if (options.keep?.(blob.key)) continue;
    candidates.push(blob.key);
    if (candidates.length >= batchSize) await flush();
  }
  await flush();
  return result;
}
