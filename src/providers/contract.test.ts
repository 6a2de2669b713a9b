/// <reference types="vite/client" />
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PixelError } from '../protocol/errors.ts';
import { checkImage } from './common/http.ts';
import { type Clock, systemClock } from './reliability/clock.ts';
import { runWithFallback } from './reliability/fallback.ts';
import { ManualClock } from './reliability/manual-clock.ts';
import { DEFAULT_POLICY, type ReliabilityPolicy } from './reliability/policy.ts';
import { withReliability } from './reliability/with-reliability.ts';
import { plan } from './testing/plan.ts';
import type { FakeServer, Fault, ProviderContract } from './testing/types.ts';
import type { ProviderAdapter, ProviderCall, ProviderResult } from './types.ts';

/**
 * The one contract suite: every `./<provider>/contract.ts` runs the same cases against its fake,
 * with bodies built by Pixel's translation. Provider quirks live in each folder's own tests.
 */
const modules = import.meta.glob<{ contract: ProviderContract }>('./*/contract.ts', { eager: true });
const contracts = Object.values(modules).map((m) => m.contract);

const PROMPT = 'a ribeye steak on a wooden board, studio light';

/** Tiny waits so retries finish fast; the per-case limits stay under a second. */
function testPolicy(overrides: Partial<ReliabilityPolicy> = {}): ReliabilityPolicy {
  return {
    ...DEFAULT_POLICY,
    baseDelayMs: 1,
    maxDelayMs: 5,
    deadlineMs: 20_000,
    maxAttempts: 3,
    ...overrides,
  };
}

/** The real clock, with every backoff wait written down. */
function recordingClock(): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  const sleep = (ms: number, signal?: AbortSignal) => {
    sleeps.push(ms);
    return systemClock.sleep(ms, signal);
  };
  return { ...systemClock, sleeps, sleep };
}

async function failure(promise: Promise<unknown>): Promise<PixelError> {
  try {
    await promise;
  } catch (error) {
    expect(PixelError.isInstance(error), `not a PixelError: ${String(error)}`).toBe(true);
    return error as PixelError;
  }
  throw new Error('expected a failure, got a success');
}

async function runAll(adapter: ProviderAdapter, calls: ProviderCall[]): Promise<ProviderResult[]> {
  const results: ProviderResult[] = [];
  for (const call of calls) results.push(await adapter.generate(call));
  return results;
}

for (const contract of contracts) {
  describe(`provider contract: ${contract.provider}`, () => {
    let fake: FakeServer;
    const lacks = (what: NonNullable<ProviderContract['lacks']>[number]) =>
      contract.lacks?.includes(what) ?? false;
    const direct = () => contract.createAdapter(fake, { pollIntervalMs: 10 });
    const reliable = (policy: Partial<ReliabilityPolicy> = {}, clock?: Clock) =>
      withReliability(direct(), testPolicy(policy), clock);
    const firstModel = contract.modelIds[0]!;
    /** Requests to the endpoint the first request of the case went to (the submit, not the polls). */
    const submits = () => {
      const first = fake.requests[0];
      return first
        ? fake.requests.filter((r) => r.method === first.method && r.path === first.path).length
        : 0;
    };
    const oneCall = async (modelId = firstModel, signal?: AbortSignal) => {
      const planned = await plan({ model: modelId, prompt: PROMPT, seed: 4242 }, signal);
      return { ...planned, call: { ...planned.calls[0]!, signal } };
    };

    beforeAll(async () => {
      fake = await contract.startFake();
    });
    afterAll(() => fake?.close());
    beforeEach(() => fake.reset());

    describe('happy path', () => {
      for (const modelId of contract.modelIds) {
        it(`${modelId}: images of the native size, request id, seed`, async () => {
          const { call, width, height, translation } = await oneCall(modelId);
          const result = await direct().generate(call);
          expect(result.images).toHaveLength(call.count);
          for (const image of result.images) {
            const decoded = await checkImage(contract.provider, image.bytes);
            expect([decoded.width, decoded.height]).toEqual([width, height]);
            expect([image.width, image.height]).toEqual([width, height]);
            expect(image.mediaType).toBe(decoded.mediaType);
          }
          if (!lacks('request_id')) expect(result.requestId).toBeTruthy();
          if (translation.model.seed !== null && !lacks('seed')) {
            expect(result.images[0]!.seed).toBe(translation.calls[0]!.seed);
          }
        });
      }
    });

    it('n above the per-call maximum is split into several calls with the right number of images', async () => {
      const { translation } = await oneCall();
      const n = translation.model.imagesPerCall + 1;
      if (n > 16) return; // the protocol's n maximum is below this model's per-call maximum
      const planned = await plan({ model: firstModel, prompt: PROMPT, n });
      expect(planned.calls.length).toBeGreaterThan(1);
      const results = await runAll(reliable(), planned.calls);
      expect(results.reduce((sum, r) => sum + r.images.length, 0)).toBe(n);
    });

    it('seed round trip: the seed sent comes back and repeats the image', async () => {
      let seeded: Awaited<ReturnType<typeof oneCall>> | undefined;
      for (const id of contract.modelIds) {
        const candidate = await oneCall(id);
        if (candidate.translation.model.seed !== null) {
          seeded = candidate;
          break;
        }
      }
      if (!seeded || lacks('seed')) return; // no model of this provider takes a seed
      const first = await direct().generate(seeded.call);
      const again = await direct().generate(seeded.call);
      expect(first.images[0]!.seed).toBe(seeded.translation.calls[0]!.seed);
      expect(Buffer.compare(first.images[0]!.bytes, again.images[0]!.bytes)).toBe(0);
    });

    describe('error classes', () => {
      it('a wrong key is an authentication error, not retried', async () => {
        if (lacks('auth')) return;
        const wrong = contract.createAdapter(
          { ...fake, apiKey: `wrong-${fake.apiKey}` },
          { pollIntervalMs: 10 },
        );
        const { call } = await oneCall();
        const error = await failure(withReliability(wrong, testPolicy()).generate(call));
        expect(['unauthenticated', 'permission_denied']).toContain(error.code);
        expect(error.retryable).toBe(false);
        expect(submits()).toBe(1);
        expect(JSON.stringify(error.toJSON())).not.toContain(fake.apiKey);
      });

      it("invalid input is invalid_argument with the provider's message, not retried", async () => {
        fake.inject({ kind: 'invalid', times: 3 });
        const { call } = await oneCall();
        const error = await failure(reliable().generate(call));
        expect(error.code).toBe('invalid_argument');
        expect(error.retryable).toBe(false);
        expect(error.message.length).toBeGreaterThan(`${contract.provider} 400: `.length);
        expect(submits()).toBe(1);
      });

      it('moderation is content_moderated and never retried', async () => {
        if (lacks('moderation')) return;
        fake.inject({ kind: 'moderation', times: 3 });
        const { call } = await oneCall();
        const error = await failure(reliable().generate(call));
        expect(error).toMatchObject({
          code: 'permission_denied',
          reason: 'content_moderated',
          retryable: false,
        });
        expect(submits()).toBe(1);
      });

      it("a rate limit carries the provider's wait and is retried after it", async () => {
        const fault: Fault = { kind: 'rate_limit', times: 1, retryAfterMs: 50 };
        fake.inject(fault);
        const { call } = await oneCall();
        const error = await failure(direct().generate(call));
        expect(error).toMatchObject({ code: 'resource_exhausted', reason: 'rate_limited', retryable: true });
        if (!lacks('retry_hint')) {
          expect(error.retryAfterMs).toBeGreaterThanOrEqual(50);
          expect(error.retryAfterMs).toBeLessThanOrEqual(1000);
        }

        fake.reset();
        fake.inject(fault);
        const clock = recordingClock();
        const result = await reliable({}, clock).generate(call);
        expect(result.images).toHaveLength(call.count);
        expect(submits()).toBe(2);
        expect(clock.sleeps).toHaveLength(1);
        if (!lacks('retry_hint')) expect(clock.sleeps[0]).toBe(error.retryAfterMs);
      });

      for (const status of [500, 502, 503, 529] as const) {
        it(`HTTP ${status} is unavailable and retryable; the wrapper retries it`, async () => {
          fake.inject({ kind: 'server_error', times: 1, status });
          const { call } = await oneCall();
          const error = await failure(direct().generate(call));
          expect(error).toMatchObject({ code: 'unavailable', retryable: true });

          fake.reset();
          fake.inject({ kind: 'server_error', times: 1, status });
          const result = await reliable().generate(call);
          expect(result.images).toHaveLength(call.count);
          expect(submits()).toBe(2);
        });
      }

      for (const variant of ['missing_fields', 'not_image', 'wrong_content_type', 'empty_list'] as const) {
        it(`a malformed response (${variant}) is an error, never a success`, async () => {
          fake.inject({ kind: 'malformed', times: 1, variant });
          const { call } = await oneCall();
          const error = await failure(direct().generate(call));
          expect(error.reason).toBe('malformed_response');
        });
      }
    });

    describe('timeout and cancellation', () => {
      // Async jobs stay queued until cancelled; a sync request just never answers.
      const hang = (): Fault =>
        contract.async ? { kind: 'stuck', times: 1 } : { kind: 'slow', times: 1, delayMs: 30_000 };
      // A fake of their own: a hung request given up on may reach its handler's fault queue late (a loaded
      // machine), and must not take a fault meant for a later case.
      let hung: FakeServer;
      beforeAll(async () => {
        hung = await contract.startFake();
      });
      afterAll(() => hung?.close());
      beforeEach(() => hung.reset());
      const hungAdapter = (policy: Partial<ReliabilityPolicy>, clock: Clock) =>
        withReliability(contract.createAdapter(hung, { pollIntervalMs: 10 }), testPolicy(policy), clock);
      /**
       * Resolves once the request is with the provider: for an async job, once it has been polled (so the
       * adapter holds the job id it must cancel). Events, not wall time: a loaded machine only makes it later.
       */
      const inFlight = () =>
        vi.waitFor(() => expect(hung.requests.length).toBeGreaterThanOrEqual(contract.async ? 2 : 1), {
          timeout: 15_000,
          interval: 5,
        });
      const cancelSent = () =>
        vi.waitFor(() => expect(hung.cancelled).toHaveLength(1), { timeout: 15_000, interval: 5 });

      it('the caller aborting cancels the request (and the provider job)', async () => {
        hung.inject(hang());
        const controller = new AbortController();
        const { call } = await oneCall(firstModel, controller.signal);
        const pending = hungAdapter({}, new ManualClock(Date.now())).generate(call);
        await inFlight();
        controller.abort();
        const error = await failure(pending);
        expect(error.code).toBe('cancelled');
        if (contract.async) await cancelSent();
      });

      it('the deadline ends a stuck request with deadline_exceeded', async () => {
        hung.inject(hang());
        const clock = new ManualClock(Date.now());
        const { call } = await oneCall();
        const pending = hungAdapter({ deadlineMs: 150 }, clock).generate(call);
        await inFlight();
        clock.advance(150);
        const error = await failure(pending);
        expect(error.code).toBe('deadline_exceeded');
        if (contract.async) await cancelSent();
      });
    });

    it('the circuit opens after repeated failures, fails fast, and closes after a good probe', async () => {
      const clock = new ManualClock(Date.now());
      const adapter = reliable(
        { maxAttempts: 1, breaker: { failureThreshold: 2, windowMs: 60_000, cooldownMs: 1000 } },
        clock,
      );
      fake.inject({ kind: 'server_error', times: 2, status: 503 });
      const { call } = await oneCall();
      await failure(adapter.generate(call));
      await failure(adapter.generate(call));
      expect(adapter.breaker.state).toBe('open');
      const seen = fake.requests.length;
      const fast = await failure(adapter.generate(call));
      expect(fast.reason).toBe('circuit_open');
      expect(fake.requests.length).toBe(seen);
      clock.advance(1000);
      const result = await adapter.generate(call);
      expect(result.images).toHaveLength(call.count);
      expect(adapter.breaker.state).toBe('closed');
    });

    it('a fallback chain moves to the second route on a retryable failure only', async () => {
      const second = await contract.startFake();
      try {
        const secondAdapter = withReliability(
          contract.createAdapter(second, { pollIntervalMs: 10 }),
          testPolicy(),
        );
        const { call } = await oneCall();
        const route = (id: string, adapter: ProviderAdapter) => ({ id, run: () => adapter.generate(call) });

        fake.inject({ kind: 'server_error', times: 1, status: 503 });
        const out = await runWithFallback([
          route('first', reliable({ maxAttempts: 1 })),
          route('second', secondAdapter),
        ]);
        expect(out.route).toBe('second');
        expect(out.attempts[0]!.error?.code).toBe('unavailable');
        expect(out.value.images).toHaveLength(call.count);
        const secondSeen = second.requests.length;

        fake.inject({ kind: 'invalid', times: 1 });
        const refused = await failure(
          runWithFallback([route('first', reliable({ maxAttempts: 1 })), route('second', secondAdapter)]),
        );
        expect(refused.code).toBe('invalid_argument');
        expect(second.requests.length).toBe(secondSeen);
      } finally {
        await second.close();
      }
    });
  });
}
