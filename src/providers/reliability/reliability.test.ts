import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../models/schema.ts';
import { PixelError } from '../../protocol/errors.ts';
import type { ProviderAdapter, ProviderCall, ProviderResult } from '../types.ts';
import { ManualClock } from './manual-clock.ts';
import { DEFAULT_POLICY, type ReliabilityPolicy, reliabilityPolicyFromEnv } from './policy.ts';
import { Semaphore } from './semaphore.ts';
import { TokenBucket } from './token-bucket.ts';
import { withReliability } from './with-reliability.ts';

const model = { id: 'openai/test', providerModelId: 'test' } as ModelEntry;
const call = (signal?: AbortSignal): ProviderCall => ({ model, body: {}, count: 1, signal });
const ok: ProviderResult = {
  images: [{ bytes: new Uint8Array([1]), mediaType: 'image/png', width: 1, height: 1 }],
};

const unavailable = () =>
  new PixelError({ code: 'unavailable', reason: 'provider_unavailable', message: 'down', retryable: true });
const rateLimited = (retryAfterMs: number) =>
  new PixelError({ code: 'resource_exhausted', reason: 'rate_limited', message: '429', retryAfterMs });
const moderated = () =>
  new PixelError({
    code: 'permission_denied',
    reason: 'content_moderated',
    retryable: false,
    message: 'no',
  });

type Step = PixelError | 'ok';

/** An adapter that plays a script of outcomes, one per call, then succeeds. */
function scripted(steps: Step[]) {
  const seen: ProviderCall[] = [];
  const adapter: ProviderAdapter = {
    name: 'openai',
    async generate(c) {
      seen.push(c);
      const step = steps.shift() ?? 'ok';
      if (step === 'ok') return ok;
      throw step;
    },
  };
  return { adapter, seen };
}

function policy(overrides: Partial<ReliabilityPolicy> = {}): ReliabilityPolicy {
  return { ...DEFAULT_POLICY, baseDelayMs: 100, maxDelayMs: 150, ...overrides };
}

async function rejection(promise: Promise<unknown>): Promise<PixelError> {
  try {
    await promise;
  } catch (error) {
    if (PixelError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('retries', () => {
  it('waits exactly what the provider asked before retrying', async () => {
    const clock = new ManualClock();
    const { adapter, seen } = scripted([rateLimited(1234)]);
    const result = await withReliability(adapter, policy(), clock).generate(call());
    expect(result).toBe(ok);
    expect(seen).toHaveLength(2);
    expect(clock.sleeps).toEqual([1234]);
  });

  it('backs off exponentially with full jitter, capped', async () => {
    const clock = new ManualClock(0, 0.5);
    const { adapter, seen } = scripted([unavailable(), unavailable(), unavailable()]);
    await withReliability(adapter, policy({ maxAttempts: 4 }), clock).generate(call());
    expect(seen).toHaveLength(4);
    // ceilings 100, 200→cap 150, 400→cap 150; jitter picks half of each
    expect(clock.sleeps).toEqual([50, 75, 75]);
  });

  it('stops at the attempt limit and returns the last error', async () => {
    const clock = new ManualClock();
    const { adapter, seen } = scripted([unavailable(), unavailable(), unavailable(), unavailable()]);
    const error = await rejection(
      withReliability(adapter, policy({ maxAttempts: 3 }), clock).generate(call()),
    );
    expect(error.code).toBe('unavailable');
    expect(seen).toHaveLength(3);
  });

  it('never retries moderation or invalid input', async () => {
    for (const failure of [
      moderated(),
      new PixelError({ code: 'invalid_argument', message: 'bad size', field: 'size' }),
    ]) {
      const { adapter, seen } = scripted([failure]);
      const error = await rejection(withReliability(adapter, policy(), new ManualClock()).generate(call()));
      expect(error).toBe(failure);
      expect(seen).toHaveLength(1);
    }
  });

  it('gives the provider error back when its wait is longer than we allow', async () => {
    const clock = new ManualClock();
    const { adapter, seen } = scripted([rateLimited(120_000)]);
    const error = await rejection(
      withReliability(adapter, policy({ maxRetryAfterMs: 60_000 }), clock).generate(call()),
    );
    expect(error.reason).toBe('rate_limited');
    expect(error.retryAfterMs).toBe(120_000);
    expect(seen).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });
});

describe('deadline and cancellation', () => {
  /** An adapter that hangs until its signal aborts, then throws what the signal says. */
  function hanging() {
    const signals: AbortSignal[] = [];
    const adapter: ProviderAdapter = {
      name: 'fal',
      generate: (c) =>
        new Promise((_, reject) => {
          signals.push(c.signal!);
          c.signal!.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
        }),
    };
    return { adapter, signals };
  }

  it('aborts the attempt with deadline_exceeded when the deadline passes', async () => {
    const clock = new ManualClock();
    const { adapter, signals } = hanging();
    const pending = withReliability(adapter, policy({ deadlineMs: 1000 }), clock).generate(call());
    await new Promise((r) => setImmediate(r));
    clock.advance(999);
    expect(signals[0]!.aborted).toBe(false);
    clock.advance(1);
    const error = await rejection(pending);
    expect(error.code).toBe('deadline_exceeded');
    expect(signals[0]!.aborted).toBe(true);
  });

  it("stops its deadline timer and lets go of the caller's signal when the call ends", async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const { adapter } = scripted([unavailable(), 'ok']);
    const reliable = withReliability(adapter, policy({ deadlineMs: 1000, maxAttempts: 2 }), clock);
    await reliable.generate(call(controller.signal));
    const { adapter: failing } = scripted([moderated()]);
    await rejection(withReliability(failing, policy({ deadlineMs: 1000 }), clock).generate(call()));
    expect(clock.pendingTimers).toBe(0);
    // Cancelling the caller afterwards reaches nothing: the call's combined signal was detached.
    const seen: AbortSignal[] = [];
    const spy: ProviderAdapter = {
      name: 'openai',
      async generate(c) {
        seen.push(c.signal!);
        return ok;
      },
    };
    await withReliability(spy, policy(), clock).generate(call(controller.signal));
    controller.abort();
    expect(seen[0]!.aborted).toBe(false);
  });

  it('does not start a wait that would run past the deadline', async () => {
    const clock = new ManualClock();
    const { adapter, seen } = scripted([rateLimited(800), rateLimited(800), rateLimited(800)]);
    const error = await rejection(
      withReliability(adapter, policy({ deadlineMs: 1000, maxAttempts: 5 }), clock).generate(call()),
    );
    expect(error.reason).toBe('rate_limited');
    expect(seen).toHaveLength(2);
    expect(clock.sleeps).toEqual([800]);
  });

  it("passes the caller's cancellation through to the adapter", async () => {
    const { adapter, signals } = hanging();
    const controller = new AbortController();
    const pending = withReliability(adapter, policy(), new ManualClock()).generate(call(controller.signal));
    await new Promise((r) => setImmediate(r));
    controller.abort();
    const error = await rejection(pending);
    expect(error.code).toBe('cancelled');
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(true);
  });
});

describe('concurrency and rate', () => {
  it('never has more calls in flight than the limit, and queues the rest', async () => {
    let inFlight = 0;
    let peak = 0;
    const releases: Array<() => void> = [];
    const adapter: ProviderAdapter = {
      name: 'openai',
      async generate() {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise<void>((resolve) => releases.push(resolve));
        inFlight--;
        return ok;
      },
    };
    const reliable = withReliability(adapter, policy({ concurrency: 2 }), new ManualClock());
    const all = Promise.all(Array.from({ length: 5 }, () => reliable.generate(call())));
    // Release one call at a time until every call has run; bounded by the number of calls.
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setImmediate(r));
      expect(inFlight).toBeLessThanOrEqual(2);
      releases.shift()?.();
    }
    await all;
    expect(peak).toBe(2);
  });

  it('rejects at once when the queue is full', async () => {
    const semaphore = new Semaphore(1, 1);
    const release = await semaphore.acquire();
    const queued = semaphore.acquire();
    const error = await rejection(semaphore.acquire());
    expect(error.code).toBe('resource_exhausted');
    expect(error.reason).toBe('queue_full');
    release();
    (await queued)();
    expect(semaphore.inFlight).toBe(0);
  });

  it('spaces requests by the requests-per-minute budget', async () => {
    const clock = new ManualClock(0);
    const bucket = new TokenBucket(120, 2, clock);
    for (let i = 0; i < 4; i++) await bucket.take();
    // two from the burst, then one token every 500 ms
    expect(clock.sleeps).toEqual([500, 500]);
    clock.advance(1000);
    await bucket.take();
    await bucket.take();
    expect(clock.sleeps).toEqual([500, 500]);
  });

  it('applies the token bucket to each attempt through the wrapper', async () => {
    const clock = new ManualClock(0);
    const { adapter, seen } = scripted([]);
    const reliable = withReliability(adapter, policy({ rpm: 60, burst: 1 }), clock);
    for (let i = 0; i < 3; i++) await reliable.generate(call());
    expect(seen).toHaveLength(3);
    expect(clock.sleeps).toEqual([1000, 1000]);
  });
});

describe('circuit breaker', () => {
  const breakerPolicy = (clockPolicy: Partial<ReliabilityPolicy> = {}) =>
    policy({
      maxAttempts: 1,
      breaker: { failureThreshold: 2, windowMs: 10_000, cooldownMs: 5000 },
      ...clockPolicy,
    });

  it('opens after consecutive failures, fails fast, lets one probe through, closes on success', async () => {
    const clock = new ManualClock();
    const { adapter, seen } = scripted([unavailable(), unavailable()]);
    const reliable = withReliability(adapter, breakerPolicy(), clock);
    await rejection(reliable.generate(call()));
    expect(reliable.breaker.state).toBe('closed');
    await rejection(reliable.generate(call()));
    expect(reliable.breaker.state).toBe('open');

    const fast = await rejection(reliable.generate(call()));
    expect(fast.reason).toBe('circuit_open');
    expect(fast.code).toBe('unavailable');
    expect(fast.retryAfterMs).toBe(5000);
    expect(seen).toHaveLength(2);

    clock.advance(5000);
    expect(reliable.breaker.state).toBe('half_open');
    await reliable.generate(call());
    expect(reliable.breaker.state).toBe('closed');
    expect(seen).toHaveLength(3);
  });

  it('admits a single probe while half-open and re-opens when it fails', async () => {
    const clock = new ManualClock();
    let release: ((value: ProviderResult) => void) | undefined;
    const failures = [unavailable(), unavailable(), unavailable()];
    const adapter: ProviderAdapter = {
      name: 'openai',
      generate: () => {
        const next = failures.shift();
        if (next) return Promise.reject(next);
        return new Promise((resolve) => {
          release = resolve;
        });
      },
    };
    const reliable = withReliability(adapter, breakerPolicy(), clock);
    await rejection(reliable.generate(call()));
    await rejection(reliable.generate(call()));
    clock.advance(5000);
    // the probe fails: open again for a full cooldown
    await rejection(reliable.generate(call()));
    expect(reliable.breaker.state).toBe('open');
    clock.advance(5000);
    const probe = reliable.generate(call());
    const second = await rejection(reliable.generate(call()));
    expect(second.reason).toBe('circuit_open');
    await new Promise((r) => setImmediate(r));
    release!(ok);
    await probe;
    expect(reliable.breaker.state).toBe('closed');
  });

  it('does not count throttling or refusals as provider failures', async () => {
    const { adapter } = scripted([rateLimited(0), rateLimited(0), moderated(), moderated()]);
    const reliable = withReliability(adapter, breakerPolicy(), new ManualClock());
    for (let i = 0; i < 4; i++) await rejection(reliable.generate(call()));
    expect(reliable.breaker.state).toBe('closed');
  });
});

describe('policy from the environment', () => {
  it('reads the per-provider variables over the defaults', () => {
    const p = reliabilityPolicyFromEnv(
      {
        PIXEL_OPENAI_CONCURRENCY: '3',
        PIXEL_OPENAI_RPM: '50',
        PIXEL_OPENAI_MAX_ATTEMPTS: '5',
        PIXEL_OPENAI_DEADLINE_MS: '9000',
        PIXEL_OPENAI_BREAKER_COOLDOWN_MS: '100',
        PIXEL_FAL_CONCURRENCY: '99',
      },
      'openai',
    );
    expect(p).toMatchObject({ concurrency: 3, rpm: 50, maxAttempts: 5, deadlineMs: 9000 });
    expect(p.breaker.cooldownMs).toBe(100);
    expect(p.maxQueue).toBe(DEFAULT_POLICY.maxQueue);
    expect(reliabilityPolicyFromEnv({}, 'fal')).toEqual(DEFAULT_POLICY);
  });

  it('names the variable when a value is not valid', () => {
    for (const bad of ['0', '-2', 'lots', '1.5']) {
      try {
        reliabilityPolicyFromEnv({ PIXEL_BFL_CONCURRENCY: bad }, 'bfl');
        expect.unreachable();
      } catch (error) {
        expect(PixelError.isInstance(error) && error.field).toBe('PIXEL_BFL_CONCURRENCY');
      }
    }
  });
});
