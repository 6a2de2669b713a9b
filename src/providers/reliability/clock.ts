import { sleep as abortableSleep } from '../common/http.ts';

/**
 * Time as the reliability layer sees it. Injected so tests can run backoff, token buckets,
 * deadlines and breaker cooldowns without waiting on the wall clock.
 */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's cancellation error when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * A signal that aborts with a `TimeoutError` after `ms`, and `clear` to stop its timer once the work
   * is done (a timer per request left to run for minutes would hold its signal that long).
   */
  timeout(ms: number): { signal: AbortSignal; clear(): void };
  /** Uniform in [0, 1), for backoff jitter. */
  random(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => (ms <= 0 && !signal?.aborted ? Promise.resolve() : abortableSleep(ms, signal)),
  timeout: (ms) => {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException('The operation timed out', 'TimeoutError')),
      Math.max(0, ms),
    );
    timer.unref();
    return { signal: controller.signal, clear: () => clearTimeout(timer) };
  },
  random: () => Math.random(),
};
