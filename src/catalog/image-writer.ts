import type { Db } from './db.ts';
import { type ImageRecord, ImageRepo, type NewImageRecord } from './images.ts';

/** Rows in one statement at most (27 parameters each, far below PostgreSQL's 65,535). */
const MAX_BATCH_ROWS = 64;

interface Pending {
  records: readonly NewImageRecord[];
  /** Resolves once the blobs these rows point at are stored; the rows are committed only after. */
  blobsStored: Promise<unknown>;
  resolve: (records: ImageRecord[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for catalogue rows, overlapped with the blob writes they point at.
 *
 * A call hands over its rows with a promise that its blobs are stored. The rows are inserted at once,
 * in a transaction that commits only when that promise resolves: the insert (in the database's own
 * thread or server) runs while the caller writes the blobs, yet no committed row ever points at a
 * blob that is not there. A blob that fails rolls its rows back.
 *
 * When idle, a call's rows go out immediately; calls arriving while a transaction is open wait for it
 * and then go together, in one multi-row INSERT and one commit (one WAL flush on PostgreSQL).
 *
 * Guarantees per call: its rows are all committed or none. When a shared transaction fails, each call
 * is retried alone, so one bad request (a bad row, a failed blob) does not fail the others.
 */
export class ImageWriter {
  readonly #db: Db;
  #queue: Pending[] = [];
  #writing = false;

  constructor(db: Db) {
    this.#db = db;
  }

  write(
    records: readonly NewImageRecord[],
    blobsStored: Promise<unknown> = Promise.resolve(),
  ): Promise<ImageRecord[]> {
    if (records.length === 0) return blobsStored.then(() => []);
    // Observed now, judged when the batch commits: a blob may fail while its rows wait in the queue.
    blobsStored.catch(() => {});
    const written = new Promise<ImageRecord[]>((resolve, reject) => {
      this.#queue.push({ records, blobsStored, resolve, reject });
    });
    if (!this.#writing) void this.#drain();
    return written;
  }

  /** Commits everything queued, batch after batch, until the queue is empty. */
  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const queued = this.#queue;
        this.#queue = [];
        let batch: Pending[] = [];
        let rows = 0;
        for (const pending of queued) {
          if (batch.length > 0 && rows + pending.records.length > MAX_BATCH_ROWS) {
            await this.#flush(batch);
            batch = [];
            rows = 0;
          }
          batch.push(pending);
          rows += pending.records.length;
        }
        if (batch.length > 0) await this.#flush(batch);
      }
    } finally {
      this.#writing = false;
    }
  }

  async #flush(batch: Pending[]): Promise<void> {
    try {
      const written = await this.#commit(batch);
      let at = 0;
      for (const pending of batch) {
        pending.resolve(written.slice(at, at + pending.records.length));
        at += pending.records.length;
      }
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // Nothing of the shared transaction was committed: give each call its own outcome.
      for (const pending of batch) {
        await this.#commit([pending]).then(pending.resolve, pending.reject);
      }
    }
  }

  #commit(batch: Pending[]): Promise<ImageRecord[]> {
    return this.#db.transaction(async (tx) => {
      const inserting = new ImageRepo(tx).insertMany(batch.flatMap((p) => p.records));
      // Everything settles before the transaction ends either way: no rollback while the insert runs.
      const [inserted, ...blobs] = await Promise.allSettled([inserting, ...batch.map((p) => p.blobsStored)]);
      const failed = [inserted, ...blobs].find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      return (inserted as PromiseFulfilledResult<ImageRecord[]>).value;
    });
  }
}
