import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../models/schema.ts';
import { failure, serveFakeForSuite } from '../testing/suite.ts';
import type { ProviderCall, ProviderProgress } from '../types.ts';
import { createFalAdapter } from './adapter.ts';
import { type FalFake, startFalFake } from './fake.ts';
import { provider } from './index.ts';

// The adapter reads only these fields of a catalogue entry.
function model(providerModelId: string): ModelEntry {
  return { id: `fal/${providerModelId}`, provider: 'fal', providerModelId, transport: 'fal' } as ModelEntry;
}

function call(id: string, body: Record<string, unknown>, extra: Partial<ProviderCall> = {}): ProviderCall {
  return { model: model(id), body, count: 1, ...extra };
}

let fake: FalFake;
serveFakeForSuite(async () => (fake = await startFalFake()));

const adapter = (extra: { mode?: 'queue' | 'sync'; maxWaitMs?: number } = {}) =>
  createFalAdapter({
    apiKey: fake.apiKey,
    queueBaseURL: fake.url,
    runBaseURL: fake.runUrl,
    pollIntervalMs: 5,
    ...extra,
  });
const sync = () => adapter({ mode: 'sync' });

describe('fal queue', () => {
  it('submits, follows the returned status and response URLs, and downloads every image', async () => {
    const progress: ProviderProgress[] = [];
    const body = {
      prompt: 'a basket of plums',
      image_size: { width: 1024, height: 768 },
      num_images: 2,
      seed: 42,
      output_format: 'png',
    };
    const result = await adapter().generate(
      call('fal-ai/flux/dev', body, { count: 2, onProgress: (p) => progress.push(p) }),
    );
    expect(result.images.map((i) => [i.mediaType, i.width, i.height, i.seed])).toEqual([
      ['image/png', 1024, 768, 42],
      ['image/png', 1024, 768, 42],
    ]);
    expect(result.usage).toEqual({ timings: { inference: 0.42 } });
    const id = result.requestId!;
    expect(fake.requests.map((r) => `${r.method} ${r.path.replace(/\/files\/.*/, '/files/*')}`)).toEqual([
      'POST /fal-ai/flux/dev',
      `GET /fal-ai/flux/requests/${id}/status`,
      `GET /fal-ai/flux/requests/${id}/status`,
      `GET /fal-ai/flux/requests/${id}/status`,
      `GET /fal-ai/flux/requests/${id}`,
      'GET /files/*',
      'GET /files/*',
    ]);
    expect(fake.requests[0]!.headers.authorization).toBe(`Key ${fake.apiKey}`);
    expect(fake.requests[0]!.body).toEqual(body);
    expect(fake.requests.at(-1)!.headers.authorization).toBeUndefined();
    expect(progress).toEqual([
      { status: 'IN_QUEUE', queuePosition: 1 },
      { status: 'IN_PROGRESS' },
      { status: 'COMPLETED' },
    ]);
  });

  it('LoRA endpoints take loras (FLUX.2 at most 3, answered with a 422 like fal)', async () => {
    const loras = [{ path: 'https://v3.fal.media/files/x/lora.safetensors', scale: 0.8 }];
    const ok = await adapter().generate(call('fal-ai/flux-lora', { prompt: 'x', loras }));
    expect(ok.images).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({ path: '/fal-ai/flux-lora', body: { loras } });
    const four = Array.from({ length: 4 }, () => loras[0]!);
    const error = await failure(adapter().generate(call('fal-ai/flux-2/lora', { prompt: 'x', loras: four })));
    expect(error).toMatchObject({ code: 'invalid_argument', providerStatus: 422 });
    expect(error.message).toContain('loras');
  });

  it('the fake, like fal, has no request URLs under the endpoint sub-path', async () => {
    const { requestId } = await adapter().generate(call('fal-ai/flux/dev', { prompt: 'x' }));
    const wrong = await fetch(`${fake.url}/fal-ai/flux/dev/requests/${requestId}/status`, {
      headers: { authorization: `Key ${fake.apiKey}` },
    });
    expect(wrong.status).toBe(404);
  });

  it('flags has_nsfw_concepts as moderation', async () => {
    const error = await failure(adapter().generate(call('fal-ai/flux/dev', { prompt: 'nsfw-test scene' })));
    expect(error).toMatchObject({ code: 'permission_denied', reason: 'content_moderated', retryable: false });
    expect(error.message).toContain('has_nsfw_concepts');
  });

  it('reports a 422 from the result with FastAPI details; ignores undeclared fields like fal', async () => {
    const error = await failure(
      adapter().generate(call('fal-ai/flux/schnell', { prompt: 'x', num_inference_steps: 20 })),
    );
    expect(error).toMatchObject({ code: 'invalid_argument', providerStatus: 422 });
    expect(error.message).toContain('num_inference_steps');
    const ok = await adapter().generate(call('fal-ai/flux/schnell', { prompt: 'x', not_a_field: 1 }));
    expect(ok.images[0]).toMatchObject({ width: 1024, height: 768, mediaType: 'image/jpeg' });
  });

  it('cancels through the returned cancel_url when the caller aborts or times out', async () => {
    fake.inject({ kind: 'stuck', times: 2 });
    const controller = new AbortController();
    const aborted = await failure(
      adapter().generate(
        call(
          'fal-ai/flux/dev',
          { prompt: 'x' },
          { signal: controller.signal, onProgress: () => controller.abort() },
        ),
      ),
    );
    expect(aborted.code).toBe('cancelled');
    expect(fake.cancelled).toHaveLength(1);
    const cancel = fake.requests.find((r) => r.method === 'PUT')!;
    expect(cancel.path).toBe(`/fal-ai/flux/requests/${fake.cancelled[0]}/cancel`);

    const timedOut = await failure(
      adapter().generate(call('fal-ai/flux/dev', { prompt: 'x' }, { signal: AbortSignal.timeout(40) })),
    );
    expect(timedOut.code).toBe('deadline_exceeded');
    expect(fake.cancelled).toHaveLength(2);
  });

  it('cancels and gives up after maxWaitMs', async () => {
    fake.inject({ kind: 'stuck', times: 1 });
    const error = await failure(
      adapter({ maxWaitMs: 20 }).generate(call('fal-ai/flux/dev', { prompt: 'x' })),
    );
    expect(error).toMatchObject({ code: 'deadline_exceeded', reason: 'timeout' });
    expect(fake.cancelled).toHaveLength(1);
  });
});

describe('fal sync', () => {
  it('posts to the run host and reads the request id header', async () => {
    const result = await sync().generate(
      call('fal-ai/flux/schnell', { prompt: 'x', image_size: 'square_hd', seed: 3 }),
    );
    expect(fake.requests[0]).toMatchObject({ method: 'POST', path: '/fal-ai/flux/schnell' });
    expect(result.images[0]).toMatchObject({ width: 1024, height: 1024, mediaType: 'image/jpeg', seed: 3 });
    expect(result.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('decodes data URIs returned with sync_mode', async () => {
    const result = await sync().generate(
      call('fal-ai/flux-pro/v1.1', { prompt: 'x', image_size: 'portrait_16_9', sync_mode: true }),
    );
    expect(result.images[0]).toMatchObject({ width: 576, height: 1024 });
    expect(fake.requests.some((r) => r.path.startsWith('/files/'))).toBe(false);
  });

  it('treats an injected moderation as has_nsfw_concepts', async () => {
    fake.inject({ kind: 'moderation', times: 1 });
    expect((await failure(sync().generate(call('fal-ai/flux/dev', { prompt: 'x' })))).reason).toBe(
      'content_moderated',
    );
  });
});

describe('fal failures', () => {
  it('classifies 401, 429 with its wait, and 5xx in both modes', async () => {
    for (const make of [adapter, sync]) {
      fake.inject({ kind: 'rate_limit', times: 1, retryAfterMs: 50 });
      const limited = await failure(make().generate(call('fal-ai/flux/dev', { prompt: 'x' })));
      expect(limited).toMatchObject({ code: 'resource_exhausted', reason: 'rate_limited', retryAfterMs: 50 });
      fake.inject({ kind: 'server_error', times: 1, status: 500 });
      expect((await failure(make().generate(call('fal-ai/flux/dev', { prompt: 'x' })))).code).toBe(
        'unavailable',
      );
    }
    const bad = createFalAdapter({
      apiKey: 'wrong-key:wrong-secret',
      queueBaseURL: fake.url,
      runBaseURL: fake.runUrl,
    });
    const auth = await failure(bad.generate(call('fal-ai/flux/dev', { prompt: 'x' })));
    expect(auth).toMatchObject({ code: 'unauthenticated', providerStatus: 401 });
    expect(JSON.stringify(auth.toJSON())).not.toContain('wrong-secret');
  });

  it('turns malformed answers into malformed_response errors in both modes', async () => {
    for (const make of [adapter, sync]) {
      for (const variant of ['missing_fields', 'not_image', 'wrong_content_type', 'empty_list'] as const) {
        fake.inject({ kind: 'malformed', times: 1, variant });
        const error = await failure(make().generate(call('fal-ai/flux/dev', { prompt: 'x' })));
        expect(error.reason, variant).toBe('malformed_response');
      }
    }
  });

  it('provider module reads FAL_KEY and both base URLs', () => {
    expect(provider.fromEnv({})).toBeUndefined();
    expect(provider.fromEnv({ FAL_KEY: 'id:secret' })?.name).toBe('fal');
    expect(provider.env.filter((e) => e.secret).map((e) => e.name)).toEqual(['FAL_KEY']);
  });
});
