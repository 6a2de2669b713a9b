import type { PgBoss } from 'pg-boss';
import type { FinetuneScheduler } from './service.ts';

/** The queue every fine-tune step goes through (one job per step: submit, a poll, the evaluation). */
export const FINETUNE_QUEUE = 'pixel-finetunes';

export interface FinetuneStepJob {
  finetuneId: string;
}

/**
 * Creates the fine-tune queue when it is missing. `stately` with the fine-tune's id as singleton key: at
 * most one step of a job waiting and one running, so a second schedule of the same job (a cancel, a worker
 * re-queueing unfinished jobs on start) is dropped rather than doubling the chain. A step that throws (the
 * database, not a provider: those settle in the row) is retried with backoff; a worker that stops
 * heartbeating loses its step to the next worker.
 */
export async function ensureFinetuneQueue(boss: PgBoss): Promise<void> {
  if (await boss.getQueue(FINETUNE_QUEUE)) return;
  await boss
    .createQueue(FINETUNE_QUEUE, {
      policy: 'stately',
      retryLimit: 20,
      retryDelay: 5,
      retryBackoff: true,
      retryDelayMax: 300,
      heartbeatSeconds: 30,
      expireInSeconds: 3 * 3600,
      retentionSeconds: 30 * 24 * 3600,
    })
    .catch((error: unknown) => {
      if (!/already exists|duplicate key/i.test((error as Error).message)) throw error;
    });
}

/** Schedules fine-tune steps on pg-boss. */
export class FinetuneQueue implements FinetuneScheduler {
  readonly #boss: PgBoss;
  constructor(boss: PgBoss) {
    this.#boss = boss;
  }

  async schedule(id: string, afterMs: number): Promise<void> {
    const data: FinetuneStepJob = { finetuneId: id };
    await this.#boss.send(FINETUNE_QUEUE, data, {
      singletonKey: id,
      ...(afterMs > 0 && { startAfter: new Date(Date.now() + afterMs) }),
    });
  }
}
