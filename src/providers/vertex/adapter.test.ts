import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../models/schema.ts';
import { failure, serveFakeForSuite } from '../testing/suite.ts';
import type { ProviderCall } from '../types.ts';
import { createVertexAdapter } from './adapter.ts';
import { RAI_REASON, startVertexFake } from './fake.ts';
import { defaultVertexBaseUrl, provider } from './index.ts';

type Fake = Awaited<ReturnType<typeof startVertexFake>>;
const MODEL = {
  id: 'vertex/imagen-4.0-generate-001',
  provider: 'vertex',
  providerModelId: 'imagen-4.0-generate-001',
} as ModelEntry;

function call(parameters: Record<string, unknown>, extra: Partial<ProviderCall> = {}): ProviderCall {
  return {
    model: MODEL,
    body: { instances: [{ prompt: 'a ribeye steak' }], parameters },
    count: typeof parameters.sampleCount === 'number' ? parameters.sampleCount : 1,
    ...extra,
  };
}

describe('vertex (Imagen :predict) adapter against the fake', () => {
  let fake: Fake;
  const adapter = (project = 'pixel-test') =>
    createVertexAdapter({ accessToken: fake.apiKey, project, location: 'europe-west4', baseURL: fake.url });

  serveFakeForSuite(async () => (fake = await startVertexFake()));

  it('posts to the project/location path with the bearer token and decodes every prediction', async () => {
    const result = await adapter().generate(
      call({ sampleCount: 2, aspectRatio: '16:9', seed: 1234, addWatermark: false, negativePrompt: 'bones' }),
    );
    expect(result.images).toHaveLength(2);
    for (const image of result.images)
      expect(image).toMatchObject({ width: 1408, height: 768, mediaType: 'image/png', seed: 1234 });
    const sent = fake.requests[0]!;
    expect(sent.path).toBe(
      '/v1/projects/pixel-test/locations/europe-west4/publishers/google/models/imagen-4.0-generate-001:predict',
    );
    expect(sent.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(result.notes).toBeUndefined();
  });

  it('does not claim a seed Imagen ignored (watermark on) and says so', async () => {
    const result = await adapter().generate(
      call({ sampleCount: 1, seed: 99, outputOptions: { mimeType: 'image/jpeg' } }),
    );
    expect(result.images[0]!.seed).toBeUndefined();
    expect(result.images[0]!.mediaType).toBe('image/jpeg');
    expect(result.notes?.join(' ')).toContain('addWatermark');
  });

  it('returns the images the RAI filter kept, with a note naming the reason', async () => {
    fake.inject({ kind: 'filter', times: 1, keep: 1 });
    const result = await adapter().generate(call({ sampleCount: 3, includeRaiReason: true }));
    expect(result.images).toHaveLength(1);
    expect(result.notes?.[0]).toContain('dropped 2 of 3');
    expect(result.notes?.[0]).toContain('Support codes: 58061214');
    fake.inject({ kind: 'filter', times: 1, keep: 2 });
    const silent = await adapter().generate(call({ sampleCount: 4 }));
    expect(silent.images).toHaveLength(2);
    expect(silent.notes?.[0]).toContain('dropped 2 of 4');
  });

  it('treats every image filtered ({} or only RAI reasons) and a refused prompt as moderation', async () => {
    fake.inject({ kind: 'moderation', times: 2 });
    const empty = await failure(adapter().generate(call({ sampleCount: 2 })));
    expect(empty).toMatchObject({ code: 'permission_denied', reason: 'content_moderated', retryable: false });
    const reasons = await failure(adapter().generate(call({ sampleCount: 2, includeRaiReason: true })));
    expect(reasons.message).toContain(RAI_REASON.slice(0, 40));
    fake.inject({ kind: 'prompt_blocked', times: 1 });
    const blocked = await failure(adapter().generate(call({ sampleCount: 1 })));
    expect(blocked).toMatchObject({
      code: 'permission_denied',
      reason: 'content_moderated',
      providerStatus: 400,
    });
  });

  it('rejects out-of-range and unknown fields with 400 INVALID_ARGUMENT naming the field', async () => {
    const range = await failure(adapter().generate(call({ sampleCount: 8 })));
    expect(range).toMatchObject({ code: 'invalid_argument', field: 'parameters.sampleCount' });
    const unknown = await failure(
      adapter().generate({
        ...call({}),
        body: { instances: [{ prompt: 'x' }], parameters: {}, model: 'imagen' },
      }),
    );
    expect(unknown.message).toContain('Unknown name "model"');
  });

  it('classifies auth, project, quota (RetryInfo) and server failures', async () => {
    const wrong = createVertexAdapter({
      accessToken: 'ya29.wrong-token-value',
      project: 'pixel-test',
      location: 'us-central1',
      baseURL: fake.url,
    });
    const auth = await failure(wrong.generate(call({})));
    expect(auth).toMatchObject({ code: 'unauthenticated', providerStatus: 401 });
    expect(auth.message).not.toContain('wrong-token-value');
    expect((await failure(adapter('other-project').generate(call({})))).code).toBe('permission_denied');
    fake.inject({ kind: 'rate_limit', times: 1, retryAfterMs: 50 });
    expect(await failure(adapter().generate(call({})))).toMatchObject({
      code: 'resource_exhausted',
      retryAfterMs: 50,
      retryable: true,
    });
    fake.inject({ kind: 'server_error', times: 1, status: 500 });
    expect(await failure(adapter().generate(call({})))).toMatchObject({
      code: 'unavailable',
      retryable: true,
    });
  });

  it.each(['missing_fields', 'not_image', 'wrong_content_type', 'empty_list'] as const)(
    'reports a malformed response (%s)',
    async (variant) => {
      fake.inject({ kind: 'malformed', times: 1, variant });
      expect((await failure(adapter().generate(call({ sampleCount: 1 })))).reason).toBe('malformed_response');
    },
  );

  it('honours a deadline', async () => {
    fake.inject({ kind: 'slow', times: 1, delayMs: 400 });
    const late = await failure(adapter().generate(call({}, { signal: AbortSignal.timeout(20) })));
    expect(late.code).toBe('deadline_exceeded');
  });

  it('needs both a token and a project in the environment, and picks the regional endpoint', () => {
    expect(provider.fromEnv({ GOOGLE_VERTEX_ACCESS_TOKEN: 't' })).toBeUndefined();
    expect(provider.fromEnv({ GOOGLE_VERTEX_ACCESS_TOKEN: 't', GOOGLE_VERTEX_PROJECT: 'p' })?.name).toBe(
      'vertex',
    );
    expect(defaultVertexBaseUrl('europe-west4')).toBe('https://europe-west4-aiplatform.googleapis.com');
    expect(defaultVertexBaseUrl('global')).toBe('https://aiplatform.googleapis.com');
  });
});
