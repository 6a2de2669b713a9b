import { sleep as abortableSleep } from '../shared/http.ts';

/**
 * Time as the reliability layer sees it. Injected so tests can run backoff, token buckets,
 * deadlines and breaker cooldowns without waiting on the wall clock.
 */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's cancellation error when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** A signal that aborts with a `TimeoutError` after `ms` (AbortSignal.timeout on the real clock). */
  timeout(ms: number): AbortSignal;
  /** Uniform in [0, 1), for backoff jitter. */
  random(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => (ms <= 0 && !signal?.aborted ? Promise.resolve() : abortableSleep(ms, signal)),
  timeout: (ms) => AbortSignal.timeout(Math.max(0, ms)),
  random: () => Math.random(),
};
