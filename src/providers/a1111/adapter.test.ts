import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../models/schema.ts';
import { failure, serveFakeForSuite } from '../testing/suite.ts';
import type { FakeServer } from '../testing/types.ts';
import { type A1111Adapter, createA1111Adapter } from './adapter.ts';
import { startA1111Fake } from './fake.ts';
import { provider } from './index.ts';

const LOADED = {
  id: 'a1111/sdxl',
  provider: 'a1111',
  providerModelId: 'default',
  transport: 'a1111',
} as ModelEntry;
const SDXL = {
  ...LOADED,
  id: 'a1111/sdxl-base',
  providerModelId: 'sd_xl_base_1.0.safetensors',
} as ModelEntry;

function body(extra: Record<string, unknown> = {}) {
  return {
    prompt: 'a ribeye steak on a wooden board',
    negative_prompt: 'text, watermark',
    seed: 4242,
    steps: 20,
    cfg_scale: 7,
    width: 640,
    height: 512,
    batch_size: 1,
    n_iter: 1,
    ...extra,
  };
}

let open: FakeServer;
let guarded: FakeServer;
let adapter: A1111Adapter;

serveFakeForSuite(async () => {
  open = await startA1111Fake();
  adapter = createA1111Adapter({ baseURL: open.url });
  return open;
});
serveFakeForSuite(
  async () => (guarded = await startA1111Fake({ auth: { username: 'pixel', password: 'hunter2-secret' } })),
);

describe('a1111 adapter', () => {
  it('skips the grid image and reads every seed from info', async () => {
    const result = await adapter.generate({ model: LOADED, body: body({ batch_size: 3 }), count: 3 });
    expect(result.images.map((image) => image.seed)).toEqual([4242, 4243, 4244]);
    for (const image of result.images) expect([image.width, image.height]).toEqual([640, 512]);
    expect(result.usage).toEqual({ checkpoint: 'v1-5-pruned-emaonly' });
    // The fake sent 4 images (grid first); the adapter returned the 3 generated ones.
    expect(open.requests[0]!.body).not.toHaveProperty('override_settings');
  });

  it('returns the random seed the server picked for seed -1', async () => {
    const result = await adapter.generate({ model: LOADED, body: body({ seed: -1 }), count: 1 });
    expect(result.images[0]!.seed).toBeGreaterThanOrEqual(0);
  });

  it('overrides the checkpoint from the catalogue entry and notes an unknown one', async () => {
    const ok = await adapter.generate({ model: SDXL, body: body(), count: 1 });
    expect(open.requests[0]!.body).toMatchObject({
      override_settings: { sd_model_checkpoint: 'sd_xl_base_1.0.safetensors' },
    });
    expect(ok.usage).toEqual({ checkpoint: 'sd_xl_base_1.0' });
    expect(ok.notes).toBeUndefined();

    const missing = { ...SDXL, providerModelId: 'juggernaut-xl.safetensors' } as ModelEntry;
    const swapped = await adapter.generate({ model: missing, body: body(), count: 1 });
    expect(swapped.notes?.[0]).toContain('"juggernaut-xl.safetensors" was not found');
  });

  it('keeps an explicit override_settings checkpoint from the body', async () => {
    await adapter.generate({
      model: SDXL,
      body: body({
        override_settings: { sd_model_checkpoint: 'v1-5-pruned-emaonly', CLIP_stop_at_last_layers: 2 },
      }),
      count: 1,
    });
    expect(open.requests[0]!.body).toMatchObject({
      override_settings: { sd_model_checkpoint: 'v1-5-pruned-emaonly', CLIP_stop_at_last_layers: 2 },
    });
  });

  it('lists the server checkpoints', async () => {
    const models = await adapter.listModels();
    expect(models.map((model) => model.model_name)).toEqual(['v1-5-pruned-emaonly', 'sd_xl_base_1.0']);
  });

  it('sends Basic credentials and maps a refusal to unauthenticated', async () => {
    const good = createA1111Adapter({ baseURL: guarded.url, username: 'pixel', password: 'hunter2-secret' });
    expect((await good.listModels()).length).toBe(2);
    expect(guarded.requests[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('pixel:hunter2-secret').toString('base64')}`,
    );
    for (const bad of [
      createA1111Adapter({ baseURL: guarded.url, username: 'pixel', password: 'wrong' }),
      createA1111Adapter({ baseURL: guarded.url }),
    ]) {
      const error = await failure(bad.generate({ model: LOADED, body: body(), count: 1 }));
      expect(error).toMatchObject({ code: 'unauthenticated', providerStatus: 401 });
      expect(error.message).toContain('Incorrect username or password');
      expect(error.message).not.toContain('hunter2');
    }
  });

  it('turns FastAPI 422 details and an unknown sampler into invalid_argument', async () => {
    const typed = await failure(adapter.generate({ model: LOADED, body: body({ steps: 'many' }), count: 1 }));
    expect(typed).toMatchObject({ code: 'invalid_argument', providerStatus: 422 });
    expect(typed.message).toContain('steps:');
    const sampler = await failure(
      adapter.generate({ model: LOADED, body: body({ sampler_name: 'Warp Drive' }), count: 1 }),
    );
    expect(sampler).toMatchObject({ code: 'invalid_argument', retryable: false });
    expect(sampler.message).toContain('Sampler not found');
  });

  it('maps the WebUI exception body, a proxy 429 and gateway errors', async () => {
    open.inject({ kind: 'server_error', times: 1, status: 500 });
    const oom = await failure(adapter.generate({ model: LOADED, body: body(), count: 1 }));
    expect(oom).toMatchObject({ code: 'unavailable', retryable: true });
    expect(oom.message).toContain('OutOfMemoryError: CUDA out of memory');

    open.inject({ kind: 'rate_limit', times: 1, retryAfterMs: 50 });
    const limited = await failure(adapter.generate({ model: LOADED, body: body(), count: 1 }));
    expect(limited).toMatchObject({ code: 'resource_exhausted', retryAfterMs: 50 });

    open.inject({ kind: 'server_error', times: 1, status: 502 });
    expect((await failure(adapter.generate({ model: LOADED, body: body(), count: 1 }))).code).toBe(
      'unavailable',
    );
  });

  it('fails every malformed variant as malformed_response', async () => {
    for (const variant of ['missing_fields', 'not_image', 'wrong_content_type', 'empty_list'] as const) {
      open.inject({ kind: 'malformed', times: 1, variant });
      const error = await failure(adapter.generate({ model: LOADED, body: body(), count: 1 }));
      expect([variant, error.reason]).toEqual([variant, 'malformed_response']);
    }
  });

  it('reports a deadline when the signal times out', async () => {
    open.inject({ kind: 'slow', times: 1, delayMs: 5_000 });
    const error = await failure(
      adapter.generate({ model: LOADED, body: body(), count: 1, signal: AbortSignal.timeout(30) }),
    );
    expect(error.code).toBe('deadline_exceeded');
  });

  it('is configured by A1111_BASE_URL only', async () => {
    expect(provider.fromEnv({})).toBeUndefined();
    const fromEnv = provider.fromEnv({
      A1111_BASE_URL: guarded.url,
      A1111_USERNAME: 'pixel',
      A1111_PASSWORD: 'hunter2-secret',
    });
    const result = await fromEnv!.generate({ model: LOADED, body: body(), count: 1 });
    expect(result.images).toHaveLength(1);
  });
});
