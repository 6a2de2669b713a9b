import type { Logger } from 'pino';
import type { Db } from '../catalog/db.ts';
import { IdempotencyStore } from '../catalog/idempotency.ts';
import { ImageRepo } from '../catalog/images.ts';
import { type SweepResult, sweepOrphanBlobs } from '../catalog/sweeper.ts';
import type { BlobStore } from '../storage/types.ts';

export interface BackgroundTasks {
  /** Runs the orphan sweeper now (the periodic one uses the configured grace period). */
  sweep(options?: { graceMs?: number }): Promise<SweepResult>;
  stop(): void;
}

/** The server's periodic housekeeping: orphan blobs and expired idempotency keys. */
export function startBackgroundTasks(options: {
  db: Db;
  store: BlobStore;
  log: Logger;
  sweepIntervalMs: number;
  sweepGraceMs: number;
}): BackgroundTasks {
  const { db, store, log } = options;
  const sweep = async (run: { graceMs?: number } = {}) => {
    const result = await sweepOrphanBlobs({
      store,
      images: new ImageRepo(db),
      olderThanMs: run.graceMs ?? options.sweepGraceMs,
    });
    await new IdempotencyStore(db).purgeExpired();
    return result;
  };
  let timer: NodeJS.Timeout | undefined;
  if (options.sweepIntervalMs > 0) {
    let sweeping = false;
    timer = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      sweep()
        .then(
          (r) => r.deleted > 0 && log.info({ deleted: r.deleted, scanned: r.scanned }, 'swept orphan blobs'),
        )
        .catch((error: unknown) => log.error({ err: error }, 'orphan sweep failed'))
        .finally(() => {
          sweeping = false;
        });
    }, options.sweepIntervalMs);
    timer.unref();
  }
  return {
    sweep,
    stop: () => {
      if (timer) clearInterval(timer);
    },
  };
}
