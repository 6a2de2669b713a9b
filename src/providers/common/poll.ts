import { PixelError } from '../../protocol/errors.ts';
import { cancelled, sleep } from './http.ts';

/** What one poll found: `done` ends the loop with `value`, else the job is still running. */
export type PollStep<T> = { done: true; value: T } | { done: false };

export interface PollOptions {
  provider: string;
  /** The job being polled, for the timeout error. */
  requestId: string;
  intervalMs: number;
  /** Give up after about this long: a whole number of polls, at least one. */
  maxWaitMs: number;
  signal?: AbortSignal;
  /** The timeout error's message, given how many polls were made. */
  timeoutMessage: (polls: number) => string;
}

/**
 * The fixed-interval status loop of async job APIs (BFL, fal): polls at once, then every
 * `intervalMs`, stops early on abort, and throws `deadline_exceeded` after the last poll.
 */
export async function pollUntilDone<T>(options: PollOptions, step: () => Promise<PollStep<T>>): Promise<T> {
  const { signal, intervalMs } = options;
  const maxPolls = pollCount(options.maxWaitMs, intervalMs);
  for (let attempt = 0; attempt < maxPolls; attempt++) {
    if (attempt > 0) await sleep(intervalMs, signal);
    if (signal?.aborted) throw cancelled(signal);
    const outcome = await step();
    if (outcome.done) return outcome.value;
  }
  throw new PixelError({
    code: 'deadline_exceeded',
    reason: 'timeout',
    provider: options.provider,
    providerRequestId: options.requestId,
    message: options.timeoutMessage(maxPolls),
  });
}

/** How many polls fit in `maxWaitMs` (at least one). */
export function pollCount(maxWaitMs: number, intervalMs: number): number {
  return Math.max(1, Math.ceil(maxWaitMs / Math.max(1, intervalMs)));
}
