import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../models/schema.ts';
import { failure, serveFakeForSuite } from '../testing/suite.ts';
import type { FakeServer } from '../testing/types.ts';
import { createOpenAIAdapter } from './adapter.ts';
import { startOpenAIFake } from './fake.ts';
import { provider } from './index.ts';

const model = (id: string) => ({ id: `openai/${id}`, providerModelId: id }) as ModelEntry;

let fake: FakeServer;
serveFakeForSuite(async () => (fake = await startOpenAIFake()));

const adapter = () => createOpenAIAdapter({ apiKey: fake.apiKey, baseURL: fake.url });

describe('OpenAI generations', () => {
  it('returns decoded images, the request id and the usage tokens', async () => {
    const body = {
      model: 'gpt-image-1.5',
      prompt: 'a ribeye steak',
      n: 2,
      size: '1536x1024',
      output_format: 'webp',
    };
    const result = await adapter().generate({ model: model('gpt-image-1.5'), body, count: 2 });
    expect(result.images).toHaveLength(2);
    for (const image of result.images) {
      expect(image).toMatchObject({ width: 1536, height: 1024, mediaType: 'image/webp' });
      expect((await sharp(image.bytes).metadata()).format).toBe('webp');
    }
    expect(Buffer.compare(result.images[0]!.bytes, result.images[1]!.bytes)).not.toBe(0);
    expect(result.requestId).toMatch(/^req_/);
    expect(result.usage).toMatchObject({ output_format: 'webp', size: '1536x1024' });
    expect(result.usage?.output_tokens).toBeGreaterThan(0);
    expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    expect(fake.requests[0]!.body).toEqual(body);
  });

  it('downloads DALL·E url outputs at once', async () => {
    const result = await adapter().generate({
      model: model('dall-e-2'),
      body: { model: 'dall-e-2', prompt: 'a pear', size: '256x256' },
      count: 1,
    });
    expect(result.images[0]).toMatchObject({ width: 256, height: 256, mediaType: 'image/png' });
    expect(fake.requests.map((r) => r.method)).toEqual(['POST', 'GET']);
  });

  it('names the field OpenAI rejected, in the caller-facing providerOptions terms', async () => {
    const error = await failure(
      adapter().generate({
        model: model('gpt-image-1.5'),
        body: { model: 'gpt-image-1.5', prompt: 'x', seed: 4 },
        count: 1,
      }),
    );
    expect(error).toMatchObject({
      code: 'invalid_argument',
      field: 'providerOptions.openai.seed',
      retryable: false,
    });
    expect(error.message).toContain("Unknown parameter: 'seed'");

    const range = await failure(
      adapter().generate({
        model: model('gpt-image-1.5'),
        body: { model: 'gpt-image-1.5', prompt: 'x', n: 11 },
        count: 11,
      }),
    );
    expect(range.field).toBe('providerOptions.openai.n');
  });

  it('treats insufficient_quota as exhausted but not retryable', async () => {
    const quota = createOpenAIAdapter({
      apiKey: 'k',
      baseURL: 'http://quota.invalid/v1',
      fetch: async () =>
        new Response(
          JSON.stringify({
            error: {
              message: 'You exceeded your current quota',
              type: 'insufficient_quota',
              param: null,
              code: 'insufficient_quota',
            },
          }),
          { status: 429, headers: { 'content-type': 'application/json', 'x-request-id': 'req_q' } },
        ),
    });
    const error = await failure(
      quota.generate({ model: model('gpt-image-1.5'), body: { prompt: 'x' }, count: 1 }),
    );
    expect(error).toMatchObject({
      code: 'resource_exhausted',
      reason: 'insufficient_quota',
      retryable: false,
      providerRequestId: 'req_q',
    });
  });

  it('reads the wait from the message when no header carries it', async () => {
    const limited = createOpenAIAdapter({
      apiKey: 'k',
      baseURL: 'http://limited.invalid/v1',
      fetch: async () =>
        new Response(
          JSON.stringify({
            error: {
              message: 'Rate limit reached. Please try again in 2.5s.',
              type: 'requests',
              param: null,
              code: 'rate_limit_exceeded',
            },
          }),
          { status: 429, headers: { 'content-type': 'application/json' } },
        ),
    });
    const error = await failure(
      limited.generate({ model: model('gpt-image-1.5'), body: { prompt: 'x' }, count: 1 }),
    );
    expect(error).toMatchObject({ reason: 'rate_limited', retryable: true, retryAfterMs: 2500 });
  });

  it('calls DALL·E moderation content_policy_violation a moderation refusal', async () => {
    fake.inject({ kind: 'moderation', times: 1 });
    const error = await failure(
      adapter().generate({ model: model('dall-e-3'), body: { model: 'dall-e-3', prompt: 'x' }, count: 1 }),
    );
    expect(error).toMatchObject({ code: 'permission_denied', reason: 'content_moderated', retryable: false });
  });

  it('reads a stream asked for in the native body (providerOptions.openai.stream) like any streamed call', async () => {
    const result = await adapter().generate({
      model: model('gpt-image-1.5'),
      body: { model: 'gpt-image-1.5', prompt: 'x', stream: true },
      count: 1,
    });
    expect(result.images[0]).toMatchObject({ width: 1024, height: 1024, mediaType: 'image/png' });
    expect(fake.requests[0]!.body).toEqual({ model: 'gpt-image-1.5', prompt: 'x', stream: true });
  });

  it('never puts the key in an error', async () => {
    const wrong = createOpenAIAdapter({ apiKey: 'sk-live-abcdefghijklmnop', baseURL: fake.url });
    const error = await failure(
      wrong.generate({ model: model('gpt-image-1.5'), body: { prompt: 'x' }, count: 1 }),
    );
    expect(error.code).toBe('unauthenticated');
    expect(JSON.stringify(error.toJSON())).not.toContain('abcdefghijklmnop');
  });
});

describe('OpenAI edits', () => {
  const png = () =>
    sharp({ create: { width: 64, height: 64, channels: 4, background: '#c33' } })
      .png()
      .toBuffer();

  it('sends reference images and a mask as multipart to /images/edits', async () => {
    const [a, b, mask] = await Promise.all([png(), png(), png()]);
    const result = await adapter().edit({
      model: model('gpt-image-1.5'),
      body: {
        model: 'gpt-image-1.5',
        prompt: 'put them on a plate',
        size: '1024x1536',
        input_fidelity: 'high',
      },
      count: 1,
      images: [new Uint8Array(a), new Uint8Array(b)],
      mask: new Uint8Array(mask),
    });
    expect(result.images[0]).toMatchObject({ width: 1024, height: 1536 });
    const sent = fake.requests[0]!;
    expect(sent.path).toBe('/v1/images/edits');
    expect(sent.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(sent.body).toMatchObject({
      prompt: 'put them on a plate',
      input_fidelity: 'high',
      images: [{ type: 'image/png' }, { type: 'image/png' }],
      mask: mask.byteLength,
    });
  });

  it('routes a generate call with body.image (base64) to edits, so edits get the reliability layer too', async () => {
    const image = (await png()).toString('base64');
    const result = await adapter().generate({
      model: model('gpt-image-1-mini'),
      body: { model: 'gpt-image-1-mini', prompt: 'a bowl', image, n: 2 },
      count: 2,
    });
    expect(result.images).toHaveLength(2);
    expect(fake.requests[0]!.path).toBe('/v1/images/edits');
    expect(fake.requests[0]!.body).toMatchObject({ n: '2', images: [{ type: 'image/png' }] });
  });

  it('rejects unknown edit fields the way OpenAI does', async () => {
    const error = await failure(
      adapter().edit({
        model: model('gpt-image-1.5'),
        body: { prompt: 'x', style: 'vivid' },
        count: 1,
        images: [new Uint8Array(await png())],
      }),
    );
    expect(error).toMatchObject({ code: 'invalid_argument', field: 'providerOptions.openai.style' });
  });
});

describe('OpenAI provider module', () => {
  it('is configured by OPENAI_API_KEY and honours OPENAI_BASE_URL', async () => {
    expect(provider.fromEnv({})).toBeUndefined();
    const configured = provider.fromEnv({ OPENAI_API_KEY: fake.apiKey, OPENAI_BASE_URL: fake.url });
    const result = await configured!.generate({
      model: model('gpt-image-2'),
      body: { model: 'gpt-image-2', prompt: 'x', size: '1280x720' },
      count: 1,
    });
    expect(result.images[0]).toMatchObject({ width: 1280, height: 720 });
    expect(provider.env.find((v) => v.name === 'OPENAI_API_KEY')?.secret).toBe(true);
  });
});
