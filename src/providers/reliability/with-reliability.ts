import { type PixelError, toPixelError } from '../../protocol/errors.ts';
import { cancelled } from '../common/http.ts';
import { linkSignals } from '../common/linked-signal.ts';
import type { ProviderAdapter, ProviderCall, ProviderResult } from '../types.ts';
import { retryDelayMs, shouldRetry } from './backoff.ts';
import { CircuitBreaker } from './breaker.ts';
import { type Clock, systemClock } from './clock.ts';
import { DEFAULT_POLICY, type ReliabilityPolicy } from './policy.ts';
import { Semaphore } from './semaphore.ts';
import { TokenBucket } from './token-bucket.ts';

/** An adapter with Pixel's reliability around it; the pieces are exposed for health and metrics. */
export interface ReliableAdapter extends ProviderAdapter {
  readonly inner: ProviderAdapter;
  readonly policy: ReliabilityPolicy;
  readonly breaker: CircuitBreaker;
  readonly slots: Semaphore;
}

/**
 * Wraps one provider's adapter (one instance per provider: the breaker, the concurrency slots and
 * the token bucket are shared by every call through it). Per call: a deadline composed with the
 * caller's signal, then up to `maxAttempts` attempts, each admitted by the breaker, a slot and a token.
 */
export function withReliability(
  adapter: ProviderAdapter,
  policy: ReliabilityPolicy = DEFAULT_POLICY,
  clock: Clock = systemClock,
): ReliableAdapter {
  const breaker = new CircuitBreaker(adapter.name, policy.breaker, clock);
  const slots = new Semaphore(policy.concurrency, policy.maxQueue);
  const bucket =
    policy.rpm > 0
      ? new TokenBucket(policy.rpm, policy.burst ?? Math.max(1, Math.ceil(policy.rpm / 60)), clock)
      : undefined;

  async function attempt(call: ProviderCall, signal: AbortSignal): Promise<ProviderResult> {
    breaker.admit();
    let release: () => void;
    try {
      release = await slots.acquire(signal, adapter.name);
    } catch (error) {
      breaker.onNeutral();
      throw error;
    }
    try {
      await bucket?.take(signal);
    } catch (error) {
      release();
      breaker.onNeutral();
      throw error;
    }
    try {
      const result = await adapter.generate({ ...call, signal });
      breaker.onSuccess();
      return result;
    } catch (thrown) {
      const error = signal.aborted ? cancelled(signal) : toPixelError(thrown);
      recordFailure(error, call.signal);
      throw error;
    } finally {
      release();
    }
  }

  function recordFailure(error: PixelError, callerSignal: AbortSignal | undefined): void {
    if (callerSignal?.aborted || error.code === 'cancelled') breaker.onNeutral();
    // Throttling says the provider is up but busy; the token bucket and backoff deal with it.
    else if (error.reason === 'rate_limited' || error.reason === 'queue_full') breaker.onNeutral();
    else if (error.retryable) breaker.onFailure();
    else breaker.onSuccess(); // a definite refusal (bad input, auth, moderation): the provider is healthy
  }

  async function generate(call: ProviderCall): Promise<ProviderResult> {
    const startedAt = clock.now();
    const deadline = clock.timeout(policy.deadlineMs);
    const linked = linkSignals([call.signal, deadline.signal]);
    const { signal } = linked;
    try {
      for (let n = 1; ; n++) {
        if (signal.aborted) throw cancelled(signal);
        let error: PixelError;
        try {
          return await attempt(call, signal);
        } catch (thrown) {
          error = toPixelError(thrown);
        }
        if (signal.aborted) throw cancelled(signal);
        if (!shouldRetry(error) || n >= policy.maxAttempts) throw error;
        const waitMs = retryDelayMs(n, error, policy, () => clock.random());
        // A wait we will not sit out (too long, or past the deadline) returns the provider's own error.
        if (error.retryAfterMs !== undefined && error.retryAfterMs > policy.maxRetryAfterMs) throw error;
        if (clock.now() + waitMs - startedAt >= policy.deadlineMs) throw error;
        await clock.sleep(waitMs, signal);
      }
    } finally {
      linked.release();
      deadline.clear();
    }
  }

  return { name: adapter.name, inner: adapter, policy, breaker, slots, generate };
}
