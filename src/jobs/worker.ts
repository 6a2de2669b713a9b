import { randomUUID } from 'node:crypto';
import type { JobAttempt, JobWithMetadata, PgBoss } from 'pg-boss';
import type { Db } from '../catalog/db.ts';
import type { Clock } from '../providers/reliability/clock.ts';
import { systemClock } from '../providers/reliability/clock.ts';
import { reliabilityPolicyFromEnv } from '../providers/reliability/policy.ts';
import type { ImageService } from '../server/image-service.ts';
import { CELL_QUEUE, DEAD_QUEUE, ECONOMY_QUEUE } from './boss.ts';
import { type CellJob, type CellOutcome, CellRunner, errorJson } from './cell-runner.ts';
import type { EconomyJob, EconomyRunner } from './economy.ts';
import { startFetchLoop } from './fetch-loop.ts';
import type { BucketLimit } from './provider-bucket.ts';

export interface WorkerOptions {
  boss: PgBoss;
  db: Db;
  images: ImageService;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Cells this process runs at once (default PIXEL_WORKER_CONCURRENCY or 16). */
  concurrency?: number;
  /** How long a claimed cell stays this worker's without a renewal (ms). */
  leaseMs?: number;
  /** Idle wait between polls of an empty queue (ms). */
  pollMs?: number;
  /** Per-provider requests per minute and concurrency across all workers; default from PIXEL_<P>_RPM/_CONCURRENCY. */
  limits?: (provider: string) => BucketLimit & { concurrency: number };
  /** Providers whose limits the group concurrency names (the ones with adapters here). */
  providers?: readonly string[];
  /** Follows economy-mode runs (provider batch APIs) in this worker too. */
  economy?: EconomyRunner;
  /** Called after every cell, for logs and tests. */
  onOutcome?: (job: CellJob, outcome: CellOutcome) => void;
}

export interface WorkerHandle {
  readonly owner: string;
  /** Cells processed by this worker (every outcome). */
  readonly processed: number;
  /** Stops fetching, waits for the cells in flight (bounded by `graceMs`), then returns. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * A batch worker: fetches cell jobs from pg-boss as slots come free (up to `concurrency` in flight), with
 * pg-boss's global group concurrency per provider, runs each through the cell runner, and settles the job:
 * complete, fail (pg-boss retries it with backoff), or dead letter with its reason. Stateless: everything
 * it knows is in the database, so any number of workers on any number of machines share the work.
 */
export function startWorker(options: WorkerOptions): WorkerHandle {
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const owner = `w_${randomUUID()}`;
  const leaseMs = options.leaseMs ?? 60_000;
  const concurrency = options.concurrency ?? readPositive(env.PIXEL_WORKER_CONCURRENCY) ?? 16;
  const pollMs = options.pollMs ?? 500;
  const limits =
    options.limits ??
    ((provider: string) => {
      const policy = reliabilityPolicyFromEnv(env, provider);
      return {
        rpm: policy.rpm,
        concurrency: policy.concurrency,
        ...(policy.burst && { burst: policy.burst }),
      };
    });
  const tiers: Record<string, number> = {};
  for (const provider of options.providers ?? []) tiers[provider] = limits(provider).concurrency;
  const runner = new CellRunner({
    db: options.db,
    images: options.images,
    clock,
    owner,
    leaseMs,
    limit: (provider) => limits(provider),
    concurrency: (provider) => limits(provider).concurrency,
  });
  const boss = options.boss;
  const abort = new AbortController();
  let processed = 0;

  // Jobs in flight, touched (pg-boss heartbeats) with the cells' and provider slots' lease renewals. Every
  // settle and touch names the attempt it fetched ({ id, retryCount }): pg-boss fences it to that attempt,
  // so a worker whose job was handed to another (its heartbeat lapsed) cannot complete or fail the new one.
  const active = new Map<string, JobAttempt>();
  const renewTimer = setInterval(
    () => {
      void runner.runs.renew(owner, clock.now() + leaseMs).catch(() => {});
      void runner.slots.renew().catch(() => {});
      if (active.size > 0) void boss.touch(CELL_QUEUE, [...active.values()]).catch(() => {});
    },
    Math.max(50, Math.floor(Math.min(leaseMs, 10_000) / 3)),
  );
  renewTimer.unref();

  // Completions go to pg-boss in batches (one statement for many jobs), at most COMPLETE_DELAY_MS late.
  let toComplete: JobAttempt[] = [];
  let completeTimer: NodeJS.Timeout | undefined;
  const flushCompletes = async () => {
    if (completeTimer) clearTimeout(completeTimer);
    completeTimer = undefined;
    const ids = toComplete;
    toComplete = [];
    if (ids.length > 0) await boss.complete(CELL_QUEUE, ids).catch(() => {});
  };
  const complete = (job: JobAttempt) => {
    toComplete.push({ id: job.id, retryCount: job.retryCount });
    if (toComplete.length >= COMPLETE_BATCH) void flushCompletes();
    else completeTimer ??= setTimeout(() => void flushCompletes(), COMPLETE_DELAY_MS);
  };

  const settle = async (job: JobWithMetadata<CellJob>, outcome: CellOutcome) => {
    switch (outcome.kind) {
      case 'done':
      case 'held':
        complete(job);
        return;
      case 'busy':
        // Another live worker holds the cell: look again later (the retry finds it done, or takes it over).
        await boss.fail(CELL_QUEUE, attemptOf(job), { reason: 'cell held by another worker' });
        return;
      case 'retry':
        await boss.fail(CELL_QUEUE, attemptOf(job), errorJson(outcome.error));
        return;
      case 'dead':
        await boss.send(DEAD_QUEUE, {
          ...job.data,
          reason: errorJson(outcome.error),
          attempts: job.retryCount + 1,
        });
        await boss.complete(CELL_QUEUE, attemptOf(job), {
          outcome: 'dead',
          reason: errorJson(outcome.error),
        });
        return;
    }
  };

  const runOne = async (job: JobWithMetadata<CellJob>) => {
    active.set(job.id, attemptOf(job));
    try {
      await runAndSettle(job);
    } finally {
      active.delete(job.id);
    }
  };

  const runAndSettle = async (job: JobWithMetadata<CellJob>) => {
    let outcome: CellOutcome;
    try {
      outcome = await runner.run(job.data, { final: job.retryCount >= job.retryLimit }, abort.signal);
    } catch (error) {
      // The database itself failed: leave the job to pg-boss (its lease lapses and it is retried).
      options.onOutcome?.(job.data, { kind: 'retry', error: error as never });
      await boss
        .fail(CELL_QUEUE, attemptOf(job), { reason: String((error as Error).message).slice(0, 300) })
        .catch(() => {});
      return;
    }
    processed++;
    options.onOutcome?.(job.data, outcome);
    await settle(job, outcome).catch(() => {});
  };

  const cells = startFetchLoop({
    concurrency,
    fetch: (max) =>
      boss.fetch<CellJob>(CELL_QUEUE, {
        batchSize: max,
        includeMetadata: true,
        groupConcurrency: { default: 8, tiers },
      }),
    run: runOne,
    // With cells still running, look again soon: a finished one frees room for the next.
    idleMs: (running) => (running > 0 ? Math.min(pollMs, 50) : pollMs),
  });
  // Economy runs: one step at a time (submit, or one poll of a provider batch), rescheduled through the queue.
  const economy = options.economy;
  const economySteps =
    economy &&
    startFetchLoop({
      concurrency: 1,
      fetch: (max) => boss.fetch<EconomyJob>(ECONOMY_QUEUE, { batchSize: max, includeMetadata: true }),
      run: async (job: JobWithMetadata<EconomyJob>) => {
        try {
          const next = await economy.step(job.data);
          if (next) {
            await boss.sendAfter(ECONOMY_QUEUE, next.next, null, Math.max(1, Math.ceil(next.afterMs / 1000)));
          }
          await boss.complete(ECONOMY_QUEUE, attemptOf(job));
        } catch (error) {
          await boss
            .fail(ECONOMY_QUEUE, attemptOf(job), { reason: String((error as Error).message).slice(0, 300) })
            .catch(() => {});
        }
      },
      idleMs: () => pollMs,
    });

  return {
    owner,
    get processed() {
      return processed;
    },
    async stop(graceMs = 30_000) {
      await Promise.all([
        cells.stop(graceMs, () => abort.abort()),
        // Economy steps take no signal: the cells' grace alone decides when running cells are aborted.
        economySteps?.stop(graceMs, () => {}),
      ]);
      await flushCompletes();
      clearInterval(renewTimer);
    },
  };
}

/** The attempt a fetched job is (pg-boss fences a settle or heartbeat naming it to that attempt). */
export const attemptOf = (job: JobWithMetadata<unknown>): JobAttempt => ({
  id: job.id,
  retryCount: job.retryCount,
});

const COMPLETE_BATCH = 50;
const COMPLETE_DELAY_MS = 25;

function readPositive(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
