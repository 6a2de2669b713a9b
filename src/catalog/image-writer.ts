import type { Queryable } from './db.ts';
import { type ImageRecord, ImageRepo, type NewImageRecord } from './images.ts';

/** Rows in one statement at most (27 parameters each, far below PostgreSQL's 65,535). */
const MAX_BATCH_ROWS = 64;

interface Pending {
  records: readonly NewImageRecord[];
  resolve: (records: ImageRecord[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for catalogue rows: the rows of requests that finish at about the same time are written
 * by one multi-row INSERT instead of one statement (and, on PostgreSQL, one WAL flush) each. Rows wait
 * at most one turn of the event loop, or for the write in progress to finish.
 *
 * Guarantees per call: its rows are all written or none (a statement is atomic), and a call whose write
 * fails leaves no row. When a shared statement fails, each call's rows are retried alone, so one bad
 * request does not fail the others that happened to share its statement.
 */
export class ImageWriter {
  readonly #repo: ImageRepo;
  #queue: Pending[] = [];
  #scheduled = false;
  #writing: Promise<void> | undefined;

  constructor(db: Queryable) {
    this.#repo = new ImageRepo(db);
  }

  write(records: readonly NewImageRecord[]): Promise<ImageRecord[]> {
    if (records.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#queue.push({ records, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing) return;
    this.#scheduled = true;
    // One tick lets the other requests finishing now join this statement.
    setImmediate(() => {
      this.#scheduled = false;
      this.#writing = this.#drain().finally(() => {
        this.#writing = undefined;
        if (this.#queue.length > 0) this.#schedule();
      });
    });
  }

  /** Writes everything queued, in batches of whole calls; calls queued meanwhile wait for the next drain. */
  async #drain(): Promise<void> {
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

  async #flush(batch: Pending[]): Promise<void> {
    try {
      const written = await this.#repo.insertMany(batch.flatMap((p) => p.records));
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
      // Nothing of the shared statement was written: give each call its own outcome.
      for (const pending of batch) {
        await this.#repo.insertMany(pending.records).then(pending.resolve, pending.reject);
      }
    }
  }
}
