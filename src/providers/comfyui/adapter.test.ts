import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../models/schema.ts';
import { failure, serveFakeForSuite } from '../testing/suite.ts';
import type { ProviderProgress } from '../types.ts';
import { createComfyUIAdapter } from './adapter.ts';
import { type ComfyUIFake, startComfyUIFake } from './fake.ts';
import { provider } from './index.ts';

const MODEL = {
  id: 'comfyui/sdxl',
  provider: 'comfyui',
  providerModelId: 'sd_xl_base_1.0.safetensors',
  transport: 'comfyui',
} as ModelEntry;
const TOKEN = 'proxy-token-123456';

/** The standard txt2img graph, in API format. */
function graph(
  overrides: { seed?: number; steps?: number; width?: number; height?: number; batch?: number } = {},
) {
  return {
    '3': {
      class_type: 'KSampler',
      inputs: {
        seed: overrides.seed ?? 77,
        steps: overrides.steps ?? 20,
        cfg: 7,
        sampler_name: 'euler',
        scheduler: 'normal',
        denoise: 1,
        model: ['4', 0],
        positive: ['6', 0],
        negative: ['7', 0],
        latent_image: ['5', 0],
      },
    },
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' } },
    '5': {
      class_type: 'EmptyLatentImage',
      inputs: {
        width: overrides.width ?? 640,
        height: overrides.height ?? 512,
        batch_size: overrides.batch ?? 2,
      },
    },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a ribeye steak', clip: ['4', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'pixel', images: ['8', 0] } },
  };
}

let fake: ComfyUIFake;
let noSocket: ComfyUIFake;
const adapters = () => ({
  websocket: createComfyUIAdapter({ baseURL: fake.url, apiKey: TOKEN, pollIntervalMs: 10 }),
  poll: createComfyUIAdapter({ baseURL: fake.url, apiKey: TOKEN, pollIntervalMs: 10, progress: 'poll' }),
});

serveFakeForSuite(
  async () => (fake = await startComfyUIFake({ token: TOKEN, checkpoints: ['sd_xl_base_1.0.safetensors'] })),
);
serveFakeForSuite(async () => (noSocket = await startComfyUIFake({ websocket: false })));

describe('comfyui adapter', () => {
  it('follows the websocket, then downloads every saved image with the KSampler seed', async () => {
    const progress: ProviderProgress[] = [];
    const result = await adapters().websocket.generate({
      model: MODEL,
      body: { prompt: graph() },
      count: 2,
      onProgress: (p) => progress.push(p),
    });
    expect(result.images).toHaveLength(2);
    for (const image of result.images) {
      expect([image.width, image.height, image.mediaType, image.seed]).toEqual([640, 512, 'image/png', 77]);
    }
    const paths = fake.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`);
    expect(paths[0]).toBe('POST /prompt');
    expect(fake.sockets).toHaveLength(1);
    expect(paths.filter((p) => p === 'GET /view')).toHaveLength(2);
    const clientId = fake.sockets[0];
    const submitted = fake.requests.find((r) => r.path === '/prompt')!;
    expect(submitted.body).toMatchObject({ client_id: clientId, prompt: graph() });
    expect(submitted.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(result.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(progress[0]).toEqual({ status: 'queued' });
    expect(progress.some((p) => p.status === 'running' && p.fraction === 1)).toBe(true);
    // With the websocket, history is read once the socket says the prompt finished.
    expect(paths.filter((p) => p.startsWith('GET /history')).length).toBeLessThanOrEqual(2);
  });

  it('polls history when asked to, and when the websocket cannot connect', async () => {
    const polled = await adapters().poll.generate({
      model: MODEL,
      body: { prompt: graph({ batch: 1 }) },
      count: 1,
    });
    expect(polled.images[0]!.seed).toBe(77);
    expect(fake.sockets).toHaveLength(0);
    expect(fake.requests.some((r) => r.path.startsWith('/history/'))).toBe(true);

    const fallback = createComfyUIAdapter({ baseURL: noSocket.url, pollIntervalMs: 10 });
    const result = await fallback.generate({
      model: MODEL,
      body: { prompt: graph({ seed: 5, batch: 1 }) },
      count: 1,
    });
    expect(result.images[0]).toMatchObject({ seed: 5, width: 640 });
    expect(noSocket.sockets).toHaveLength(1);
  });

  it('passes ComfyUI validation errors through as invalid_argument', async () => {
    const { websocket } = adapters();
    const unknownNode = { ...graph(), '10': { class_type: 'UpscaleWithMagic', inputs: {} } };
    const unknown = await failure(
      websocket.generate({ model: MODEL, body: { prompt: unknownNode }, count: 2 }),
    );
    expect(unknown).toMatchObject({ code: 'invalid_argument', providerStatus: 400 });
    expect(unknown.message).toContain('node UpscaleWithMagic does not exist');

    const tooMany = await failure(
      websocket.generate({ model: MODEL, body: { prompt: graph({ steps: 20000 }) }, count: 2 }),
    );
    expect(tooMany.message).toContain('KSampler #3 Value 20000 bigger than max of 10000');

    const dangling = graph();
    dangling['8'].inputs.samples = ['42', 0];
    const link = await failure(websocket.generate({ model: MODEL, body: { prompt: dangling }, count: 2 }));
    expect(link.message).toContain('Return type mismatch');

    const checkpoint = graph();
    checkpoint['4'].inputs.ckpt_name = 'missing.safetensors';
    const notInList = await failure(
      websocket.generate({ model: MODEL, body: { prompt: checkpoint }, count: 2 }),
    );
    expect(notInList.message).toContain("ckpt_name: 'missing.safetensors' not in");

    const notAGraph = await failure(websocket.generate({ model: MODEL, body: { workflow: 1 }, count: 1 }));
    expect(notAGraph).toMatchObject({ code: 'invalid_argument', field: 'prompt' });
  });

  it('interrupts its own running prompt when cancelled', async () => {
    for (const mode of ['websocket', 'poll'] as const) {
      fake.reset();
      fake.inject({ kind: 'slow', times: 1, delayMs: 10_000 });
      const controller = new AbortController();
      const running = adapters()[mode].generate({
        model: MODEL,
        body: { prompt: graph() },
        count: 2,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.status === 'queued') setTimeout(() => controller.abort(), 50);
        },
      });
      const error = await failure(running);
      expect([mode, error.code]).toEqual([mode, 'cancelled']);
      expect(fake.cancelled).toHaveLength(1);
      expect(fake.requests.find((r) => r.path === '/interrupt')?.body).toEqual({
        prompt_id: fake.cancelled[0],
      });
    }
  });

  it('deletes a stuck pending prompt from the queue on a deadline', async () => {
    fake.inject({ kind: 'stuck', times: 1 });
    const error = await failure(
      adapters().websocket.generate({
        model: MODEL,
        body: { prompt: graph() },
        count: 2,
        signal: AbortSignal.timeout(100),
      }),
    );
    expect(error.code).toBe('deadline_exceeded');
    expect(fake.cancelled).toHaveLength(1);
    expect(fake.requests.find((r) => r.method === 'POST' && r.path === '/queue')?.body).toEqual({
      delete: [fake.cancelled[0]],
    });
    expect(fake.requests.some((r) => r.path === '/interrupt')).toBe(false);
  });

  it('gives up after maxWaitMs and cancels the prompt', async () => {
    fake.inject({ kind: 'stuck', times: 1 });
    const bounded = createComfyUIAdapter({
      baseURL: fake.url,
      apiKey: TOKEN,
      pollIntervalMs: 10,
      progress: 'poll',
      maxWaitMs: 60,
    });
    const error = await failure(bounded.generate({ model: MODEL, body: { prompt: graph() }, count: 2 }));
    expect(error).toMatchObject({ code: 'deadline_exceeded', providerRequestId: fake.cancelled[0] });
  });

  it('reports an interruption from elsewhere as cancelled', async () => {
    fake.inject({ kind: 'slow', times: 1, delayMs: 10_000 });
    const running = adapters().websocket.generate({
      model: MODEL,
      body: { prompt: graph() },
      count: 2,
      onProgress: (p) => {
        if (p.status === 'running')
          void fetch(`${fake.url}/interrupt`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}` },
          });
      },
    });
    const error = await failure(running);
    expect(error.code).toBe('cancelled');
    expect(error.message).toContain('interrupted on the server');
  });

  it('maps execution errors, proxy 429s, auth and 5xx', async () => {
    for (const mode of ['websocket', 'poll'] as const) {
      fake.inject({ kind: 'server_error', times: 1, status: 500 });
      const oom = await failure(
        adapters()[mode].generate({ model: MODEL, body: { prompt: graph() }, count: 2 }),
      );
      expect([mode, oom.code, oom.retryable]).toEqual([mode, 'unavailable', true]);
      expect(oom.message).toContain('KSampler #3: torch.OutOfMemoryError: CUDA out of memory');
    }
    fake.inject({ kind: 'rate_limit', times: 1, retryAfterMs: 50 });
    const limited = await failure(
      adapters().poll.generate({ model: MODEL, body: { prompt: graph() }, count: 2 }),
    );
    expect(limited).toMatchObject({ code: 'resource_exhausted', reason: 'rate_limited', retryAfterMs: 50 });

    fake.inject({ kind: 'server_error', times: 1, status: 503 });
    const down = await failure(
      adapters().poll.generate({ model: MODEL, body: { prompt: graph() }, count: 2 }),
    );
    expect(down).toMatchObject({ code: 'unavailable', providerStatus: 503 });

    const stranger = createComfyUIAdapter({
      baseURL: fake.url,
      apiKey: 'wrong-token-0000',
      pollIntervalMs: 10,
    });
    const denied = await failure(stranger.generate({ model: MODEL, body: { prompt: graph() }, count: 2 }));
    expect(denied).toMatchObject({ code: 'unauthenticated', providerStatus: 401 });
    expect(denied.message).not.toContain('wrong-token-0000');
  });

  it('fails every malformed variant as malformed_response', async () => {
    for (const variant of ['missing_fields', 'not_image', 'wrong_content_type', 'empty_list'] as const) {
      fake.inject({ kind: 'malformed', times: 1, variant });
      const error = await failure(
        adapters().websocket.generate({ model: MODEL, body: { prompt: graph() }, count: 2 }),
      );
      expect([variant, error.reason]).toEqual([variant, 'malformed_response']);
    }
  });

  it('is configured by COMFYUI_BASE_URL only', async () => {
    expect(provider.fromEnv({})).toBeUndefined();
    const adapter = provider.fromEnv({ COMFYUI_BASE_URL: noSocket.url, COMFYUI_PROGRESS: 'poll' })!;
    expect(adapter.name).toBe('comfyui');
    expect(provider.env.find((v) => v.name === 'COMFYUI_API_KEY')?.secret).toBe(true);
  });
});
