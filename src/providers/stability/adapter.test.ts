import { describe, expect, it } from 'vitest';
import type { ModelEntry, Transport } from '../../models/schema.ts';
import { failure, serveFakeForSuite } from '../testing/suite.ts';
import type { FakeServer } from '../testing/types.ts';
import type { ProviderCall } from '../types.ts';
import { createStabilityAdapter, endpointFor } from './adapter.ts';
import { startStabilityFake } from './fake.ts';
import { provider } from './index.ts';

// The adapter reads only these fields of a catalogue entry.
function model(providerModelId: string, transport: Transport = 'stability-v2beta'): ModelEntry {
  return {
    id: `stability/${providerModelId}`,
    provider: 'stability',
    providerModelId,
    transport,
  } as ModelEntry;
}

function call(m: ModelEntry, body: Record<string, unknown>, extra: Partial<ProviderCall> = {}): ProviderCall {
  return { model: m, body, count: 1, ...extra };
}

let fake: FakeServer;
serveFakeForSuite(async () => (fake = await startStabilityFake()));

const adapter = () => createStabilityAdapter({ apiKey: fake.apiKey, baseURL: fake.url });
const jsonAdapter = () => createStabilityAdapter({ apiKey: fake.apiKey, baseURL: fake.url, output: 'json' });

describe('stability v2beta', () => {
  it('sends multipart to the sd3 endpoint and reads bytes, seed and request id from the headers', async () => {
    const body = {
      prompt: 'a ribeye steak',
      model: 'sd3.5-large',
      aspect_ratio: '16:9',
      seed: 42,
      cfg_scale: 5,
      output_format: 'png',
    };
    const result = await adapter().generate(call(model('sd3.5-large'), body));
    expect(result.images).toHaveLength(1);
    const [image] = result.images;
    expect(image).toMatchObject({ mediaType: 'image/png', width: 1344, height: 768, seed: 42 });
    expect(result.requestId).toMatch(/^[0-9a-f]{32}$/);
    const sent = fake.requests[0]!;
    expect(sent.path).toBe('/v2beta/stable-image/generate/sd3');
    expect(sent.headers.accept).toBe('image/*');
    expect(sent.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(sent.body).toEqual({
      prompt: 'a ribeye steak',
      model: 'sd3.5-large',
      aspect_ratio: '16:9',
      seed: '42',
      cfg_scale: '5',
      output_format: 'png',
    });
  });

  it('reads base64 JSON when asked for application/json', async () => {
    const body = { prompt: 'a lemon', aspect_ratio: '2:3', seed: 7, output_format: 'jpeg' };
    const result = await jsonAdapter().generate(call(model('stable-image-core'), body));
    expect(fake.requests[0]!.path).toBe('/v2beta/stable-image/generate/core');
    expect(fake.requests[0]!.headers.accept).toBe('application/json');
    expect(result.images[0]).toMatchObject({ mediaType: 'image/jpeg', width: 832, height: 1216, seed: 7 });
  });

  it('returns the seed the provider picked when none was sent', async () => {
    const result = await adapter().generate(
      call(model('stable-image-ultra'), { prompt: 'x', output_format: 'webp' }),
    );
    expect(fake.requests[0]!.path).toBe('/v2beta/stable-image/generate/ultra');
    expect(result.images[0]!.mediaType).toBe('image/webp');
    expect(result.images[0]!.seed).toBeGreaterThan(0);
  });

  it('treats finish-reason CONTENT_FILTERED as moderation in both answer shapes', async () => {
    for (const make of [adapter, jsonAdapter]) {
      const error = await failure(
        make().generate(call(model('sd3.5-medium'), { prompt: 'nsfw-test scene' })),
      );
      expect(error).toMatchObject({
        code: 'permission_denied',
        reason: 'content_moderated',
        retryable: false,
      });
      expect(error.message).toContain('CONTENT_FILTERED');
    }
  });

  it('maps 403 content_moderation to moderation', async () => {
    fake.inject({ kind: 'moderation', times: 1 });
    const error = await failure(adapter().generate(call(model('sd3.5-large'), { prompt: 'x' })));
    expect(error).toMatchObject({
      code: 'permission_denied',
      reason: 'content_moderated',
      providerStatus: 403,
    });
  });

  it('rejects an unknown or out-of-range field with the provider message', async () => {
    const unknown = await failure(
      adapter().generate(call(model('stable-image-core'), { prompt: 'x', steps: 30 })),
    );
    expect(unknown).toMatchObject({ code: 'invalid_argument', providerStatus: 400 });
    expect(unknown.message).toContain('bad_request');
    const range = await failure(
      adapter().generate(call(model('sd3.5-large'), { prompt: 'x', cfg_scale: 11 })),
    );
    expect(range.message).toContain('cfg_scale');
    // sd3 accepts only jpeg/png
    const format = await failure(
      adapter().generate(call(model('sd3.5-large'), { prompt: 'x', output_format: 'webp' })),
    );
    expect(format.message).toContain('output_format');
  });

  it('classifies rate limits, outages and bad keys', async () => {
    fake.inject({ kind: 'rate_limit', times: 1, retryAfterMs: 50 });
    const limited = await failure(adapter().generate(call(model('sd3.5-large'), { prompt: 'x' })));
    expect(limited).toMatchObject({ code: 'resource_exhausted', reason: 'rate_limited', retryable: true });
    expect(limited.retryAfterMs).toBe(50);

    fake.inject({ kind: 'server_error', times: 1, status: 503 });
    const down = await failure(adapter().generate(call(model('sd3.5-large'), { prompt: 'x' })));
    expect(down).toMatchObject({ code: 'unavailable', retryable: true, providerStatus: 503 });

    const badKey = createStabilityAdapter({ apiKey: 'sk-wrong-key-123456789', baseURL: fake.url });
    const auth = await failure(badKey.generate(call(model('sd3.5-large'), { prompt: 'x' })));
    expect(auth).toMatchObject({ code: 'unauthenticated', reason: 'auth', providerStatus: 401 });
    expect(JSON.stringify(auth.toJSON())).not.toContain('sk-wrong-key-123456789');
  });

  it('turns every malformed answer into a malformed_response error', async () => {
    const variants = ['missing_fields', 'not_image', 'wrong_content_type', 'empty_list'] as const;
    for (const make of [adapter, jsonAdapter]) {
      for (const variant of variants) {
        fake.inject({ kind: 'malformed', times: 1, variant });
        const error = await failure(make().generate(call(model('sd3.5-large'), { prompt: 'x' })));
        expect(error.reason, variant).toBe('malformed_response');
      }
    }
  });

  it('gives up with deadline_exceeded or cancelled when the signal fires', async () => {
    fake.inject({ kind: 'stuck', times: 2 });
    const timeout = await failure(
      adapter().generate(call(model('sd3.5-large'), { prompt: 'x' }, { signal: AbortSignal.timeout(30) })),
    );
    expect(timeout.code).toBe('deadline_exceeded');
    const controller = new AbortController();
    const pending = adapter().generate(
      call(model('sd3.5-large'), { prompt: 'x' }, { signal: controller.signal }),
    );
    setTimeout(() => controller.abort(), 20);
    expect((await failure(pending)).code).toBe('cancelled');
  });

  it('maps catalogue ids onto endpoints and refuses an unknown one', () => {
    expect(endpointFor('stable-image-ultra')).toBe('ultra');
    expect(endpointFor('stable-image-core')).toBe('core');
    expect(endpointFor('sd3.5-large-turbo')).toBe('sd3');
    expect(() => endpointFor('dall-e-3')).toThrow(/no v2beta endpoint/);
  });

  it('reports an unreachable server as unavailable', async () => {
    const closed = await startStabilityFake();
    await closed.close();
    const dead = createStabilityAdapter({ apiKey: 'k', baseURL: closed.url });
    const error = await failure(dead.generate(call(model('sd3.5-large'), { prompt: 'x' })));
    expect(error).toMatchObject({ code: 'unavailable', retryable: true });
  });
});

describe('stability v1 (SDXL)', () => {
  const sdxl = model('stable-diffusion-xl-1024-v1-0', 'stability-v1');

  it('returns every artifact with its seed', async () => {
    const body = {
      text_prompts: [
        { text: 'a green apple', weight: 1 },
        { text: 'blurry', weight: -1 },
      ],
      width: 1152,
      height: 896,
      cfg_scale: 7,
      steps: 30,
      samples: 2,
      seed: 7,
    };
    const result = await adapter().generate(call(sdxl, body, { count: 2 }));
    expect(fake.requests[0]!.path).toBe('/v1/generation/stable-diffusion-xl-1024-v1-0/text-to-image');
    expect(fake.requests[0]!.body).toEqual(body);
    expect(result.images.map((i) => [i.width, i.height, i.seed])).toEqual([
      [1152, 896, 7],
      [1152, 896, 8],
    ]);
  });

  it('surfaces invalid_sdxl_v1_dimensions as an invalid request', async () => {
    const error = await failure(
      adapter().generate(call(sdxl, { text_prompts: [{ text: 'x' }], width: 512, height: 512 })),
    );
    expect(error).toMatchObject({ code: 'invalid_argument', providerStatus: 400 });
    expect(error.message).toContain('invalid_sdxl_v1_dimensions');
  });

  it('treats a CONTENT_FILTERED artifact as moderation and an empty list as malformed', async () => {
    fake.inject({ kind: 'moderation', times: 1 });
    const body = { text_prompts: [{ text: 'x' }], width: 1024, height: 1024 };
    const moderated = await failure(adapter().generate(call(sdxl, body)));
    expect(moderated).toMatchObject({ code: 'permission_denied', reason: 'content_moderated' });
    fake.inject({ kind: 'malformed', times: 1, variant: 'empty_list' });
    expect((await failure(adapter().generate(call(sdxl, body)))).reason).toBe('malformed_response');
  });

  it('maps an unknown engine to not_found', async () => {
    const error = await failure(
      adapter().generate(call(model('no-such-engine', 'stability-v1'), { text_prompts: [{ text: 'x' }] })),
    );
    expect(error).toMatchObject({ code: 'not_found', providerStatus: 404 });
  });
});

describe('stability provider module', () => {
  it('is configured only with a key, and marks the key secret', () => {
    expect(provider.fromEnv({})).toBeUndefined();
    expect(provider.fromEnv({ STABILITY_API_KEY: 'sk-abc' })?.name).toBe('stability');
    expect(provider.env.find((e) => e.name === 'STABILITY_API_KEY')?.secret).toBe(true);
  });
});
