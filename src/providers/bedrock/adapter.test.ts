import { describe, expect, it } from 'vitest';
import type { ModelEntry, Transport } from '../../models/schema.ts';
import { failure, serveFakeForSuite } from '../testing/suite.ts';
import type { ProviderAdapter } from '../types.ts';
import { createBedrockAdapter } from './adapter.ts';
import { type BedrockFake, startBedrockFake } from './fake.ts';
import { provider } from './index.ts';

function model(providerModelId: string, transport: Transport): ModelEntry {
  return { id: `bedrock/${providerModelId}`, provider: 'bedrock', providerModelId, transport } as ModelEntry;
}
const TITAN = model('amazon.titan-image-generator-v2:0', 'bedrock-titan');
const NOVA = model('amazon.nova-canvas-v1:0', 'bedrock-nova');
const SD35 = model('stability.sd3-5-large-v1:0', 'bedrock-stability');

function titanBody(extra: Record<string, unknown> = {}, text = 'a ribeye steak on a board') {
  return {
    taskType: 'TEXT_IMAGE',
    textToImageParams: { text },
    imageGenerationConfig: { numberOfImages: 2, width: 768, height: 1152, cfgScale: 8, seed: 1234, ...extra },
  };
}

let fake: BedrockFake;
let adapter: ProviderAdapter;

serveFakeForSuite(async () => {
  fake = await startBedrockFake();
  adapter = createBedrockAdapter({
    baseURL: fake.url,
    region: fake.region,
    credentials: { accessKeyId: fake.apiKey, secretAccessKey: fake.secretAccessKey },
  });
  return fake;
});

describe('bedrock adapter', () => {
  it('signs the request and returns Titan images of the native size with the seed sent', async () => {
    const result = await adapter.generate({ model: TITAN, body: titanBody(), count: 2 });
    expect(result.images).toHaveLength(2);
    for (const image of result.images) {
      expect([image.width, image.height, image.mediaType, image.seed]).toEqual([
        768,
        1152,
        'image/png',
        1234,
      ]);
    }
    expect(result.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const sent = fake.requests[0]!;
    expect(sent.path).toBe('/model/amazon.titan-image-generator-v2%3A0/invoke');
    expect(sent.headers.authorization).toMatch(
      new RegExp(`^AWS4-HMAC-SHA256 Credential=${fake.apiKey}/\\d{8}/us-east-1/bedrock/aws4_request`),
    );
    expect(sent.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(sent.body).toEqual(titanBody());
  });

  it('reads the seeds Stability models report and honours the aspect ratio and format', async () => {
    const body = { prompt: 'a loaf of sourdough', aspect_ratio: '16:9', output_format: 'jpeg', seed: 987654 };
    const result = await adapter.generate({ model: SD35, body, count: 1 });
    expect(result.images[0]).toMatchObject({
      width: 1344,
      height: 768,
      mediaType: 'image/jpeg',
      seed: 987654,
    });
  });

  it('returns the seed Stability picked when none was sent', async () => {
    const result = await adapter.generate({ model: SD35, body: { prompt: 'kale' }, count: 1 });
    expect(result.images[0]!.seed).toBeGreaterThan(0);
  });

  it('passes Bedrock validation messages through as invalid_argument', async () => {
    const unknownKey = await failure(
      adapter.generate({
        model: NOVA,
        body: { ...titanBody(), textToImageParams: { text: 'x', bogus: 1 } },
        count: 2,
      }),
    );
    expect(unknownKey).toMatchObject({ code: 'invalid_argument', providerStatus: 400, retryable: false });
    expect(unknownKey.message).toContain('extraneous key [bogus]');
    const range = await failure(
      adapter.generate({ model: NOVA, body: titanBody({ cfgScale: 11 }), count: 2 }),
    );
    expect(range.message).toContain('#/imageGenerationConfig/cfgScale');
    const size = await failure(
      adapter.generate({ model: TITAN, body: titanBody({ width: 1000 }), count: 2 }),
    );
    expect(size.message).toContain('1000x1152 is not a supported image size');
  });

  it('classifies bad credentials as unauthenticated without leaking the secret', async () => {
    const wrongSecret = createBedrockAdapter({
      baseURL: fake.url,
      region: fake.region,
      credentials: { accessKeyId: fake.apiKey, secretAccessKey: 'definitely-not-the-secret' },
    });
    const error = await failure(wrongSecret.generate({ model: TITAN, body: titanBody(), count: 2 }));
    expect(error).toMatchObject({ code: 'unauthenticated', providerStatus: 403, retryable: false });
    expect(error.message).toContain('InvalidSignatureException');
    expect(JSON.stringify(error.toJSON())).not.toContain('definitely-not-the-secret');

    const wrongKey = createBedrockAdapter({
      baseURL: fake.url,
      region: fake.region,
      credentials: { accessKeyId: 'AKIAOTHERKEY00000000', secretAccessKey: fake.secretAccessKey },
    });
    const unknown = await failure(wrongKey.generate({ model: TITAN, body: titanBody(), count: 2 }));
    expect(unknown.code).toBe('unauthenticated');
    expect(unknown.message).toContain('UnrecognizedClientException');
  });

  it('signs the session token of temporary credentials', async () => {
    const temporary = createBedrockAdapter({
      baseURL: fake.url,
      region: fake.region,
      credentials: {
        accessKeyId: fake.apiKey,
        secretAccessKey: fake.secretAccessKey,
        sessionToken: 'FwoGZX',
      },
    });
    await temporary.generate({ model: TITAN, body: titanBody(), count: 2 });
    expect(fake.requests[0]!.headers['x-amz-security-token']).toBe('FwoGZX');
    expect(fake.requests[0]!.headers.authorization).toContain('x-amz-security-token');
  });

  it('recognises Responsible-AI refusals in all three shapes', async () => {
    fake.inject({ kind: 'moderation', times: 1 });
    const titan = await failure(adapter.generate({ model: TITAN, body: titanBody(), count: 2 }));
    expect(titan).toMatchObject({ code: 'permission_denied', reason: 'content_moderated', retryable: false });

    fake.inject({ kind: 'moderation', times: 1 });
    const stability = await failure(adapter.generate({ model: SD35, body: { prompt: 'x' }, count: 1 }));
    expect(stability).toMatchObject({ code: 'permission_denied', reason: 'content_moderated' });
    expect(stability.message).toContain('Filter reason: prompt');

    // Titan can also answer 200 with the refusal in `error`.
    const inBody = createBedrockAdapter({
      baseURL: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAX', secretAccessKey: 's' },
      fetch: async () =>
        Response.json({ images: [], error: 'The generated image has been blocked by our content filters.' }),
    });
    const body = await failure(inBody.generate({ model: TITAN, body: titanBody(), count: 1 }));
    expect(body.reason).toBe('content_moderated');
  });

  it('maps Bedrock exception types onto Pixel codes', async () => {
    const cases: Array<[number, string, string, boolean]> = [
      [429, 'ThrottlingException', 'resource_exhausted', true],
      [400, 'ServiceQuotaExceededException', 'resource_exhausted', true],
      [408, 'ModelTimeoutException', 'deadline_exceeded', true],
      [424, 'ModelErrorException', 'unavailable', true],
      [404, 'ResourceNotFoundException', 'not_found', false],
      [403, 'AccessDeniedException', 'permission_denied', false],
      [503, 'ServiceUnavailableException', 'unavailable', true],
    ];
    for (const [status, type, code, retryable] of cases) {
      const stub = createBedrockAdapter({
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIAX', secretAccessKey: 's' },
        fetch: async () =>
          Response.json(
            { message: `${type} happened` },
            { status, headers: { 'x-amzn-ErrorType': `${type}:http://x/` } },
          ),
      });
      const error = await failure(stub.generate({ model: TITAN, body: titanBody(), count: 1 }));
      expect([type, error.code, error.retryable, error.providerStatus]).toEqual([
        type,
        code,
        retryable,
        status,
      ]);
    }
  });

  it('treats throttling, 5xx and malformed answers from the fake as retryable failures', async () => {
    fake.inject({ kind: 'rate_limit', times: 1, retryAfterMs: 10 });
    expect(await failure(adapter.generate({ model: TITAN, body: titanBody(), count: 2 }))).toMatchObject({
      code: 'resource_exhausted',
      reason: 'rate_limited',
    });
    for (const variant of ['missing_fields', 'not_image', 'wrong_content_type', 'empty_list'] as const) {
      fake.inject({ kind: 'malformed', times: 1, variant });
      const error = await failure(adapter.generate({ model: TITAN, body: titanBody(), count: 2 }));
      expect([variant, error.reason]).toEqual([variant, 'malformed_response']);
    }
  });

  it('fails fewer images than asked as malformed, not as a short success', async () => {
    const error = await failure(
      adapter.generate({ model: TITAN, body: titanBody({ numberOfImages: 1 }), count: 2 }),
    );
    expect(error.reason).toBe('malformed_response');
  });

  it('reports a deadline when the signal times out and a cancel when aborted', async () => {
    fake.inject({ kind: 'slow', times: 2, delayMs: 5_000 });
    const timeout = await failure(
      adapter.generate({ model: TITAN, body: titanBody(), count: 2, signal: AbortSignal.timeout(30) }),
    );
    expect(timeout.code).toBe('deadline_exceeded');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const cancel = await failure(
      adapter.generate({ model: TITAN, body: titanBody(), count: 2, signal: controller.signal }),
    );
    expect(cancel.code).toBe('cancelled');
  });
});

describe('bedrock provider module', () => {
  it('is configured from the AWS SDK variables, with AWS_DEFAULT_REGION and BEDROCK_BASE_URL', async () => {
    expect(provider.fromEnv({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' })).toBeUndefined();
    const fromEnv = provider.fromEnv({
      AWS_ACCESS_KEY_ID: fake.apiKey,
      AWS_SECRET_ACCESS_KEY: fake.secretAccessKey,
      AWS_DEFAULT_REGION: fake.region,
      BEDROCK_BASE_URL: fake.url,
    });
    const result = await fromEnv!.generate({ model: TITAN, body: titanBody(), count: 2 });
    expect(result.images).toHaveLength(2);
    expect(provider.env.filter((v) => v.secret).map((v) => v.name)).toContain('AWS_SECRET_ACCESS_KEY');
  });
});
