/**
 * The blob store contract. Keys are content-addressed (`images/ab/cd/<sha256>.<ext>`), so a put of
 * the same bytes twice is harmless and returns the same key; the catalogue row points at the key.
 */
export type StoreKind = 'local' | 's3';

export interface StoredBlob {
  /** Content-addressed key, e.g. `images/ab/cd/abcd…ef.png`; safe to put in a URL path. */
  key: string;
  /** Lowercase hex sha256 of the bytes. */
  sha256: string;
  size: number;
  mediaType: string;
  /** Public or presigned URL at the time of the put (presigned ones expire; call `url(key)` again). */
  url: string;
}

export interface BlobListing {
  key: string;
  /** Last write (or refresh) time: the orphan sweeper only removes blobs older than its grace period. */
  lastModified: Date;
  size: number;
}

export interface BlobStore {
  readonly kind: StoreKind;
  /** Writes the bytes under their content address. Empty bytes or an unknown media type are rejected. */
  put(bytes: Uint8Array, opts: { mediaType: string }): Promise<StoredBlob>;
  get(key: string): Promise<{ bytes: Uint8Array; mediaType: string } | undefined>;
  exists(key: string): Promise<boolean>;
  /** Idempotent: deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Every blob this store owns (keys matching the key pattern), for the orphan sweeper. */
  list(): AsyncIterable<BlobListing>;
  /** `${publicBaseUrl}/…` or a presigned GET URL with the configured expiry. */
  url(key: string): Promise<string>;
  /**
   * A put is coming soon (a request is about to wait for its provider): a store that prepares puts ahead
   * of time does that work now, while the request waits, instead of next to the put.
   */
  anticipatePut?(): void;
  close(): Promise<void>;
}
