import type { JobWithMetadata, PgBoss } from 'pg-boss';
import { startFetchLoop } from '../jobs/fetch-loop.ts';
import { attemptOf } from '../jobs/worker.ts';
import { ensureFinetuneQueue, FINETUNE_QUEUE, FinetuneQueue, type FinetuneStepJob } from './queue.ts';
import type { FinetuneService } from './service.ts';

export interface FinetuneJobsOptions {
  boss: PgBoss;
  service: FinetuneService;
  /** Run fine-tune steps in this process (a worker); otherwise only schedule them. */
  worker: boolean;
  /** Steps this process runs at once (default 4). */
  concurrency?: number;
  /** Idle wait between fetches of an empty queue (ms, default 500). */
  pollMs?: number;
  /** Called after every step with the job's id, before its next step is queued (logs and tests). */
  onStep?: (finetuneId: string) => void | Promise<void>;
}

export interface FinetuneJobs {
  /** Stops taking steps, lets the ones running finish (bounded by `graceMs`), and detaches the queue. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Fine-tune jobs on a job system's pg-boss: the queue is created, the service schedules on it, and with
 * `worker` this process runs steps: each one is `service.advance` (one transition), then its next step is
 * sent (after the backend's poll interval while training) before this one is completed, so a crash between
 * the two leaves a step on the queue, never none. On start the worker queues every unfinished job (a job
 * started where no queue was, or one whose step was lost): the queue drops it where a step already waits.
 */
export async function startFinetuneJobs(options: FinetuneJobsOptions): Promise<FinetuneJobs> {
  const { boss, service } = options;
  await ensureFinetuneQueue(boss);
  const queue = new FinetuneQueue(boss);
  service.attachScheduler(queue);
  if (!options.worker) {
    return {
      async stop() {
        if (service.scheduler === queue) service.attachScheduler(undefined);
      },
    };
  }
  for (const job of await service.repo.unfinished()) await queue.schedule(job.id, 0);

  const abort = new AbortController();
  const runOne = async (job: JobWithMetadata<FinetuneStepJob>) => {
    const id = job.data.finetuneId;
    const heartbeat = setInterval(
      () => void boss.touch(FINETUNE_QUEUE, [attemptOf(job)]).catch(() => {}),
      10_000,
    );
    heartbeat.unref();
    try {
      const nextMs = await service.advance(id, abort.signal);
      await options.onStep?.(id);
      if (nextMs !== undefined) await queue.schedule(id, nextMs);
      await boss.complete(FINETUNE_QUEUE, attemptOf(job));
    } catch (error) {
      // The database failed, or this worker is stopping mid-step: pg-boss retries the step. Its last
      // attempt gives the job up, so it does not stay unfinished with no step left on the queue.
      const reason = String((error as Error).message).slice(0, 300);
      if (job.retryCount >= job.retryLimit && !abort.signal.aborted) {
        await service.giveUp(id, reason).catch(() => {});
      }
      await boss.fail(FINETUNE_QUEUE, attemptOf(job), { reason }).catch(() => {});
    } finally {
      clearInterval(heartbeat);
    }
  };

  const pollMs = options.pollMs ?? 500;
  const loop = startFetchLoop({
    concurrency: options.concurrency ?? 4,
    fetch: (max) => boss.fetch<FinetuneStepJob>(FINETUNE_QUEUE, { batchSize: max, includeMetadata: true }),
    run: runOne,
    idleMs: () => pollMs,
  });

  return {
    async stop(graceMs = 30_000) {
      await loop.stop(graceMs, () => abort.abort());
      if (service.scheduler === queue) service.attachScheduler(undefined);
    },
  };
}
