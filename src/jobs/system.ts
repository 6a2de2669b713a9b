import type { PgBoss } from 'pg-boss';
import { startFinetuneJobs } from '../finetune/worker.ts';
import type { Platform } from '../platform/compose.ts';
import type { Clock } from '../providers/reliability/clock.ts';
import { systemClock } from '../providers/reliability/clock.ts';
import { BatchService } from './batches.ts';
import { startBoss } from './boss.ts';
import { EconomyRunner } from './economy.ts';
import { startWorker, type WorkerHandle, type WorkerOptions } from './worker.ts';

export interface JobSystem {
  boss: PgBoss;
  batches: BatchService;
  /** The in-process worker, when one was asked for. */
  worker?: WorkerHandle;
  stop(graceMs?: number): Promise<void>;
}

export interface JobSystemOptions {
  /** Run a worker in this process (the embedded server, `pixel worker`, `--wait` on PGlite). */
  worker?: boolean;
  clock?: Clock;
  /** pg-boss's lease on an active job, seconds (default PIXEL_JOB_LEASE_SECONDS or 60). */
  leaseSeconds?: number;
  superviseSeconds?: number;
  workerOptions?: Partial<Omit<WorkerOptions, 'boss' | 'db' | 'images'>>;
}

/**
 * The batch machinery on a platform: pg-boss on the catalogue's database (its own pool on a PostgreSQL
 * server; through the platform's `Db` on embedded PGlite), the batch service, and optionally a worker.
 */
export async function startJobSystem(platform: Platform, options: JobSystemOptions = {}): Promise<JobSystem> {
  const env = platform.env;
  const leaseSeconds = options.leaseSeconds ?? positive(env.PIXEL_JOB_LEASE_SECONDS) ?? 60;
  const boss = await startBoss({
    db: platform.db,
    ...(platform.config.databaseUrl !== undefined && { databaseUrl: platform.config.databaseUrl }),
    leaseSeconds,
    superviseSeconds: options.superviseSeconds ?? positive(env.PIXEL_JOB_SUPERVISE_SECONDS) ?? 5,
  });
  // Fine-tune steps share this pg-boss (their own queue), run where batch cells run.
  const finetunes = await startFinetuneJobs({
    boss,
    service: platform.finetunes.service,
    worker: options.worker === true,
  });
  const batches = new BatchService({
    db: platform.db,
    boss,
    catalog: platform.catalog,
    applications: platform.applications,
    ...(options.clock && { clock: options.clock }),
  });
  const openaiKey = env.OPENAI_API_KEY?.trim();
  const economy = new EconomyRunner({
    db: platform.db,
    boss,
    store: platform.store,
    catalog: platform.catalog,
    applications: platform.applications.resolver(),
    defaultModel: platform.defaultModel,
    clock: options.clock ?? systemClock,
    openai: openaiKey
      ? { baseUrl: env.OPENAI_BASE_URL?.trim() || 'https://api.openai.com/v1', apiKey: openaiKey }
      : undefined,
    pollMs: positive(env.PIXEL_ECONOMY_POLL_MS) ?? 30_000,
  });
  const worker = options.worker
    ? startWorker({
        economy,
        boss,
        db: platform.db,
        images: platform.images,
        env,
        leaseMs: leaseSeconds * 1000,
        providers: [...platform.adapters.keys()],
        ...(options.clock && { clock: options.clock }),
        ...options.workerOptions,
      })
    : undefined;
  return {
    boss,
    batches,
    ...(worker && { worker }),
    async stop(graceMs = 30_000) {
      await Promise.all([worker?.stop(graceMs), finetunes.stop(graceMs)]);
      await boss.stop({ graceful: false, close: true, timeout: 5_000 }).catch(() => {});
    },
  };
}

function positive(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
