import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../models/schema.ts';
import { failure, serveFakeForSuite } from '../testing/suite.ts';
import type { ProviderCall, ProviderProgress } from '../types.ts';
import { createReplicateAdapter, type ReplicateAdapterConfig } from './adapter.ts';
import { startReplicateFake } from './fake.ts';

type Fake = Awaited<ReturnType<typeof startReplicateFake>>;
const SDXL_VERSION = '39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b';

function model(providerModelId: string): ModelEntry {
  return { id: `replicate/${providerModelId}`, provider: 'replicate', providerModelId } as ModelEntry;
}

describe('replicate adapter against the fake', () => {
  let fake: Fake;
  let slow: Fake;
  const adapter = (target: Fake, extra: Partial<ReplicateAdapterConfig> = {}) =>
    createReplicateAdapter({ apiKey: target.apiKey, baseURL: target.url, pollIntervalMs: 5, ...extra });
  const schnell = (input: Record<string, unknown>, extra: Partial<ProviderCall> = {}): ProviderCall => ({
    model: model('black-forest-labs/flux-schnell'),
    body: { input: { prompt: 'ribeye steak', ...input } },
    count: Number(input.num_outputs ?? 1),
    ...extra,
  });

  serveFakeForSuite(async () => (fake = await startReplicateFake()));
  // Jobs take 150 ms but the Prefer: wait hold lasts 20 ms: the create returns 202 and the adapter polls.
  serveFakeForSuite(async () => (slow = await startReplicateFake({ jobMs: 150, holdCapMs: 20 })));

  it('creates an official-model prediction with Prefer: wait and fetches every output URL', async () => {
    const result = await adapter(fake).generate(
      schnell({ num_outputs: 2, aspect_ratio: '16:9', output_format: 'png', seed: 4242 }),
    );
    expect(result.images).toHaveLength(2);
    for (const image of result.images) {
      expect([image.width, image.height, image.mediaType]).toEqual([1344, 768, 'image/png']);
    }
    expect(result.images[0]!.seed).toBe(4242);
    const create = fake.requests[0]!;
    expect(create.path).toBe('/v1/models/black-forest-labs/flux-schnell/predictions');
    expect(create.headers.prefer).toBe('wait');
    expect(create.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(result.requestId).toMatch(/^[a-z2-7]{26}$/);
    // No polling was needed: the held request came back finished (201).
    expect(fake.requests.filter((r) => r.path.startsWith('/v1/predictions/'))).toHaveLength(0);
  });

  it('reads a single URL string output (flux-1.1-pro) and honours custom sizes', async () => {
    const result = await adapter(fake).generate({
      model: model('black-forest-labs/flux-1.1-pro'),
      body: {
        input: { prompt: 'a pear', aspect_ratio: 'custom', width: 768, height: 512, output_format: 'jpg' },
      },
      count: 1,
    });
    expect(result.images).toHaveLength(1);
    expect(result.images[0]).toMatchObject({ width: 768, height: 512, mediaType: 'image/jpeg' });
  });

  it('sends version models to /predictions and reads the seed from the logs when none was sent', async () => {
    const result = await adapter(fake).generate({
      model: model(`stability-ai/sdxl:${SDXL_VERSION}`),
      body: { version: SDXL_VERSION, input: { prompt: 'a loaf', width: 640, height: 512 } },
      count: 1,
    });
    expect(fake.requests[0]!.path).toBe('/v1/predictions');
    expect(result.images[0]).toMatchObject({ width: 640, height: 512 });
    const stored = await fetch(`${fake.url}/predictions/${result.requestId}`, {
      headers: { authorization: `Bearer ${fake.apiKey}` },
    }).then((r) => r.json() as Promise<{ logs: string }>);
    const logged = Number(/Using seed: (\d+)/.exec(stored.logs)?.[1]);
    expect(result.images[0]!.seed).toBe(logged);
  });

  it('turns a 422 (unknown top-level key on /predictions) into invalid_argument naming the field', async () => {
    const error = await failure(
      adapter(fake).generate({
        model: model(`stability-ai/sdxl:${SDXL_VERSION}`),
        body: { version: SDXL_VERSION, model: 'stability-ai/sdxl', input: { prompt: 'x' } },
        count: 1,
      }),
    );
    expect(error.code).toBe('invalid_argument');
    expect(error.providerStatus).toBe(422);
    expect(error.message).toContain('model');
    const outOfRange = await failure(adapter(fake).generate(schnell({ num_outputs: 7 })));
    expect(outOfRange.field).toBe('input.num_outputs');
  });

  it('polls urls.get past the Prefer: wait hold and reports progress', async () => {
    const seen: ProviderProgress[] = [];
    const result = await adapter(slow).generate(schnell({ seed: 9 }, { onProgress: (p) => seen.push(p) }));
    expect(result.images).toHaveLength(1);
    expect(
      slow.requests.some((r) => r.method === 'GET' && r.path === `/v1/predictions/${result.requestId}`),
    ).toBe(true);
    const statuses = seen.map((p) => p.status);
    expect(['starting', 'processing']).toContain(statuses[0]);
    expect(statuses.at(-1)).toBe('succeeded');
    expect(seen.some((p) => p.fraction === 0.5)).toBe(true);
    expect(seen.at(-1)!.fraction).toBe(1);
  });

  it('keeps polling through transient status-read failures, but gives up (and cancels) after too many', async () => {
    slow.inject({ kind: 'poll_error', times: 2, status: 503 });
    slow.inject({ kind: 'poll_error', times: 1, status: 429 });
    const result = await adapter(slow).generate(schnell({}));
    expect(result.images).toHaveLength(1);
    expect(slow.cancelled).toHaveLength(0);

    // The job never finishes on its own, so the outcome does not depend on how fast the polls run.
    slow.inject({ kind: 'stuck', times: 1 });
    slow.inject({ kind: 'poll_error', times: 4, status: 500 });
    const error = await failure(adapter(slow).generate(schnell({})));
    expect(error).toMatchObject({ code: 'unavailable', providerStatus: 500 });
    expect(slow.cancelled).toHaveLength(1);
  });

  it('cancels the prediction through urls.cancel when the caller aborts while polling', async () => {
    slow.inject({ kind: 'stuck', times: 1 });
    const controller = new AbortController();
    const error = await failure(
      adapter(slow).generate(
        schnell({}, { signal: controller.signal, onProgress: () => controller.abort() }),
      ),
    );
    expect(error.code).toBe('cancelled');
    expect(slow.cancelled).toHaveLength(1);
    expect(slow.requests.at(-1)!.path).toBe(`/v1/predictions/${slow.cancelled[0]}/cancel`);
  });

  it('learns the id of a prediction aborted during the held create, then cancels it', async () => {
    const holding = await startReplicateFake({ holdCapMs: 150 });
    try {
      holding.inject({ kind: 'stuck', times: 1 });
      const error = await failure(
        adapter(holding).generate(schnell({}, { signal: AbortSignal.timeout(20) })),
      );
      expect(error.code).toBe('deadline_exceeded');
      expect(holding.cancelled).toHaveLength(1);
    } finally {
      await holding.close();
    }
  });

  it('maps Cancel-After deadlines (aborted before start, canceled while running) to deadline_exceeded', async () => {
    slow.inject({ kind: 'stuck', times: 1 });
    const before = await failure(adapter(slow, { cancelAfter: '40ms' }).generate(schnell({})));
    expect(before.code).toBe('deadline_exceeded');
    expect(before.message).toContain('aborted');
    expect(slow.requests[0]!.headers['cancel-after']).toBe('40ms');
    const during = await failure(adapter(slow, { cancelAfter: '100ms' }).generate(schnell({})));
    expect(during.message).toContain('canceled');
  });

  it('parses the wait from the 429 message when no header carries it', async () => {
    fake.inject({ kind: 'rate_limit', times: 1, retryAfterMs: 1500 });
    const error = await failure(adapter(fake).generate(schnell({})));
    expect(error).toMatchObject({ code: 'resource_exhausted', reason: 'rate_limited', retryable: true });
    expect(error.retryAfterMs).toBe(1500);
  });

  it('classifies auth, server errors and NSFW failures', async () => {
    const auth = await failure(
      createReplicateAdapter({ apiKey: 'r8_wrongwrongwrong123', baseURL: fake.url }).generate(schnell({})),
    );
    expect(auth.code).toBe('unauthenticated');
    expect(auth.message).not.toContain('r8_wrongwrongwrong123');

    fake.inject({ kind: 'server_error', times: 1, status: 503 });
    const down = await failure(adapter(fake).generate(schnell({})));
    expect(down).toMatchObject({ code: 'unavailable', retryable: true, providerStatus: 503 });

    fake.inject({ kind: 'moderation', times: 1 });
    const nsfw = await failure(adapter(fake).generate(schnell({})));
    expect(nsfw).toMatchObject({ code: 'permission_denied', reason: 'content_moderated', retryable: false });
    expect(nsfw.providerRequestId).toMatch(/^[a-z2-7]{26}$/);
  });

  it.each(['missing_fields', 'not_image', 'wrong_content_type', 'empty_list'] as const)(
    'reports a malformed response (%s) as an error, never an empty success',
    async (variant) => {
      fake.inject({ kind: 'malformed', times: 1, variant });
      const error = await failure(adapter(fake).generate(schnell({})));
      expect(error.reason).toBe('malformed_response');
    },
  );
});
