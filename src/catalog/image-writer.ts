import type { Db, Queryable } from './db.ts';
import { type ImageRecord, ImageRepo, type NewImageRecord } from './images.ts';

/**
 * A statement that must commit with a call's rows, or the rows not at all: it runs in their transaction
 * and throws to refuse them (e.g. completing an idempotency key only while this attempt still owns it).
 */
export type Fence = (tx: Queryable) => Promise<void>;

/** Rows in one statement at most (27 parameters each, far below PostgreSQL's 65,535). */
const MAX_BATCH_ROWS = 64;

interface Pending {
  records: readonly NewImageRecord[];
  /** Resolves once the blobs these rows point at are stored; the rows are committed only after. Absent: stored already. */
  blobsStored?: Promise<unknown>;
  /** Runs in the rows' transaction; throwing rolls the rows back (an idempotency key's completion). */
  fence?: Fence;
  resolve: (records: ImageRecord[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for catalogue rows, overlapped with the blob writes they point at.
 *
 * A call whose blobs are still being written hands over its rows with the promise that they are stored.
 * The rows are inserted at once, in a transaction that commits only when that promise resolves: the
 * insert (in the database's own thread or server) runs while the blobs are written or uploaded, yet no
 * committed row ever points at a blob that is not there. A blob that fails rolls its rows back. A call
 * whose blobs are stored already gets a plain INSERT (one statement is atomic on its own).
 *
 * When idle, a call's rows go out immediately; calls arriving while a transaction is open wait for it
 * and then go together, in one multi-row INSERT and one commit (one WAL flush on PostgreSQL).
 *
 * Guarantees per call: its rows are all committed or none, and with a `fence`, committed together with
 * the fence's own writes or not at all. When a shared transaction fails, each call is retried alone, so
 * one bad request (a bad row, a failed blob, a refused fence) does not fail the others.
 */
export class ImageWriter {
  readonly #db: Db;
  readonly #repo: ImageRepo;
  #queue: Pending[] = [];
  #writing = false;

  constructor(db: Db) {
    this.#db = db;
    this.#repo = new ImageRepo(db);
  }

  /**
   * `blobsStored`: the promise that the rows' blobs are being stored, when they are not yet; the rows are
   * then inserted in a transaction that waits for it. Without it (blobs already stored), a plain INSERT.
   * `fence`: runs in the same transaction; when it throws, the rows are not committed and the call fails.
   */
  write(
    records: readonly NewImageRecord[],
    blobsStored?: Promise<unknown>,
    fence?: Fence,
  ): Promise<ImageRecord[]> {
    if (records.length === 0) return (blobsStored ?? Promise.resolve()).then(() => []);
    // Observed now, judged when the batch commits: a blob may fail while its rows wait in the queue.
    blobsStored?.catch(() => {});
    const written = new Promise<ImageRecord[]>((resolve, reject) => {
      this.#queue.push({ records, blobsStored, ...(fence && { fence }), resolve, reject });
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

  async #commit(batch: Pending[]): Promise<ImageRecord[]> {
    const records = batch.flatMap((p) => p.records);
    const gates = batch.flatMap((p) => (p.blobsStored ? [p.blobsStored] : []));
    const fences = batch.flatMap((p) => (p.fence ? [p.fence] : []));
    // Every blob already stored and nothing to commit with the rows: one statement is atomic on its own.
    if (gates.length === 0 && fences.length === 0) return this.#repo.insertMany(records);
    let inserting: Promise<ImageRecord[]> | undefined;
    const committed = this.#db.transaction(async (tx) => {
      inserting = new ImageRepo(tx).insertMany(records);
      inserting.catch(() => {}); // judged once the transaction is over
      const failed = (await Promise.allSettled(gates)).find((r) => r.status === 'rejected');
      if (failed) {
        await inserting.catch(() => {}); // no rollback while the insert runs
        throw failed.reason;
      }
      // The fences last, once the blobs are stored: a fence locks its idempotency row until COMMIT, and
      // holding it through a slow upload would stall that key's lease renewals. They queue behind the insert
      // on the transaction's connection; a refused one rolls it all back.
      const fenced = (await Promise.allSettled(fences.map((f) => f(tx)))).find(
        (r) => r.status === 'rejected',
      );
      if (fenced) {
        await inserting.catch(() => {});
        throw fenced.reason;
      }
      // Not waiting for the insert's answer: COMMIT is queued right behind it (one round trip less).
      // If the insert failed, the database turns that COMMIT into a rollback.
    });
    try {
      await committed;
    } catch (error) {
      // The insert's own error (a bad row…) says more than the rolled-back COMMIT that followed it.
      await inserting;
      throw error;
    }
    return inserting!;
  }
}
