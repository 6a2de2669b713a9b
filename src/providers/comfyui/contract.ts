import type { ProviderContract } from '../testing/types.ts';
import { createComfyUIAdapter } from './adapter.ts';
import { startComfyUIFake } from './fake.ts';

export const contract: ProviderContract = {
  provider: 'comfyui',
  modelIds: ['comfyui/sdxl'],
  async: true,
  // ComfyUI has no content filter; auth and 429s come from the proxy the fake emulates.
  lacks: ['moderation'],
  startFake: () => startComfyUIFake({ token: 'fake-comfy-proxy-token' }),
  createAdapter: (fake, options) =>
    createComfyUIAdapter({
      baseURL: fake.url,
      apiKey: fake.apiKey,
      pollIntervalMs: options?.pollIntervalMs ?? 10,
    }),
};
