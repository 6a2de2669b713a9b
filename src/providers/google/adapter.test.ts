import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../models/schema.ts';
import { failure, serveFakeForSuite } from '../testing/suite.ts';
import type { ProviderCall } from '../types.ts';
import { createGoogleAdapter } from './adapter.ts';
import { startGoogleFake } from './fake.ts';
import { provider } from './index.ts';

type Fake = Awaited<ReturnType<typeof startGoogleFake>>;

function call(
  generationConfig: Record<string, unknown> = {},
  extra: Partial<ProviderCall> = {},
): ProviderCall {
  return {
    model: {
      id: 'google/gemini-2.5-flash-image',
      provider: 'google',
      providerModelId: 'gemini-2.5-flash-image',
    } as ModelEntry,
    body: {
      contents: [{ role: 'user', parts: [{ text: 'a ribeye steak on a board' }] }],
      generationConfig: { responseModalities: ['IMAGE'], ...generationConfig },
    },
    count: 1,
    ...extra,
  };
}

describe('google (Gemini image output) adapter against the fake', () => {
  let fake: Fake;
  const adapter = () => createGoogleAdapter({ apiKey: fake.apiKey, baseURL: fake.url });

  serveFakeForSuite(async () => (fake = await startGoogleFake()));

  it('posts generateContent with x-goog-api-key and decodes the inline image', async () => {
    const result = await adapter().generate(call({ imageConfig: { aspectRatio: '16:9' }, seed: 77 }));
    expect(result.images).toHaveLength(1);
    expect(result.images[0]).toMatchObject({ width: 1344, height: 768, mediaType: 'image/png', seed: 77 });
    const sent = fake.requests[0]!;
    expect(sent.path).toBe('/v1beta/models/gemini-2.5-flash-image:generateContent');
    expect(sent.headers['x-goog-api-key']).toBe(fake.apiKey);
    expect(result.requestId).toBeTruthy();
    expect(result.usage?.candidatesTokenCount).toBe(1290);
    expect(result.usage?.modelVersion).toBe('gemini-2.5-flash-image');
  });

  it('gets bigger images with imageSize 2K and reports no seed when none was sent', async () => {
    const result = await adapter().generate(call({ imageConfig: { aspectRatio: '1:1', imageSize: '2K' } }));
    expect(result.images[0]).toMatchObject({ width: 2048, height: 2048 });
    expect(result.images[0]!.seed).toBeUndefined();
  });

  it('rejects an unknown field the way Google does (400 INVALID_ARGUMENT naming the field)', async () => {
    const error = await failure(adapter().generate(call({ guidanceScale: 3 })));
    expect(error).toMatchObject({
      code: 'invalid_argument',
      providerStatus: 400,
      field: 'generation_config',
    });
    expect(error.message).toContain('Unknown name "guidanceScale"');
  });

  it.each(['IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'SAFETY', 'PROHIBITED_CONTENT', 'IMAGE_RECITATION'])(
    'treats finishReason %s without an image as moderation',
    async (finishReason) => {
      fake.inject({ kind: 'finish', times: 1, finishReason });
      const error = await failure(adapter().generate(call()));
      expect(error).toMatchObject({
        code: 'permission_denied',
        reason: 'content_moderated',
        retryable: false,
      });
      expect(error.message).toContain(finishReason);
    },
  );

  it('treats promptFeedback.blockReason (HTTP 200, no candidates) as moderation', async () => {
    fake.inject({ kind: 'blocked', times: 1, blockReason: 'PROHIBITED_CONTENT' });
    const error = await failure(adapter().generate(call()));
    expect(error).toMatchObject({
      code: 'permission_denied',
      reason: 'content_moderated',
      providerStatus: 200,
    });
    fake.inject({ kind: 'moderation', times: 1 });
    expect((await failure(adapter().generate(call()))).reason).toBe('content_moderated');
  });

  it.each(['NO_IMAGE', 'IMAGE_OTHER'])(
    'reports finishReason %s as a retryable malformed response',
    async (reason) => {
      fake.inject({ kind: 'finish', times: 1, finishReason: reason, finishMessage: 'no image this time' });
      const error = await failure(adapter().generate(call()));
      expect(error).toMatchObject({ code: 'unavailable', reason: 'malformed_response', retryable: true });
      expect(error.message).toContain(`${reason}: no image this time`);
    },
  );

  it('reports a text-only answer as malformed, quoting the text', async () => {
    const error = await failure(adapter().generate(call({ responseModalities: ['TEXT'] })));
    expect(error.reason).toBe('malformed_response');
    expect(error.message).toContain('text only');
  });

  it('maps API_KEY_INVALID (a 400) to unauthenticated and a missing key to permission_denied', async () => {
    const bad = createGoogleAdapter({ apiKey: 'AIzaWrongWrongWrongWrongWrong12345', baseURL: fake.url });
    const error = await failure(bad.generate(call()));
    expect(error).toMatchObject({ code: 'unauthenticated', providerStatus: 400, retryable: false });
    expect(error.message).not.toContain('AIzaWrongWrong');
    const none = createGoogleAdapter({ apiKey: '', baseURL: fake.url });
    // An empty header is still a header; the fake treats it as a wrong key, like the real API.
    expect((await failure(none.generate(call()))).code).toBe('unauthenticated');
  });

  it('reads the wait from RetryInfo on 429 and classifies 503 and unknown models', async () => {
    fake.inject({ kind: 'rate_limit', times: 1, retryAfterMs: 27_400 });
    const limited = await failure(adapter().generate(call()));
    expect(limited).toMatchObject({
      code: 'resource_exhausted',
      reason: 'rate_limited',
      retryAfterMs: 27_400,
    });
    fake.inject({ kind: 'server_error', times: 1, status: 503 });
    expect(await failure(adapter().generate(call()))).toMatchObject({ code: 'unavailable', retryable: true });
    const unknown = await failure(
      adapter().generate({ ...call(), model: { providerModelId: 'gemini-0-nope' } as ModelEntry }),
    );
    expect(unknown.code).toBe('not_found');
  });

  it.each(['missing_fields', 'not_image', 'wrong_content_type', 'empty_list'] as const)(
    'reports a malformed response (%s)',
    async (variant) => {
      fake.inject({ kind: 'malformed', times: 1, variant });
      expect((await failure(adapter().generate(call()))).reason).toBe('malformed_response');
    },
  );

  it('stops on abort (cancelled) and on a deadline (deadline_exceeded)', async () => {
    fake.inject({ kind: 'slow', times: 2, delayMs: 400 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    expect((await failure(adapter().generate(call({}, { signal: controller.signal })))).code).toBe(
      'cancelled',
    );
    const late = await failure(adapter().generate(call({}, { signal: AbortSignal.timeout(20) })));
    expect(late.code).toBe('deadline_exceeded');
  });

  it('builds from any of the three key variables and stays off without one', () => {
    expect(provider.fromEnv({ GEMINI_API_KEY: 'k' })?.name).toBe('google');
    expect(provider.fromEnv({ GOOGLE_GENERATIVE_AI_API_KEY: 'k' })?.name).toBe('google');
    expect(provider.fromEnv({ GOOGLE_BASE_URL: 'http://127.0.0.1:1' })).toBeUndefined();
  });
});
