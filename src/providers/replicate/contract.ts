import type { ProviderContract } from '../testing/types.ts';
import { createReplicateAdapter } from './adapter.ts';
import { startReplicateFake } from './fake.ts';

export const contract: ProviderContract = {
  provider: 'replicate',
  modelIds: [
    'replicate/black-forest-labs/flux-schnell',
    'replicate/black-forest-labs/flux-1.1-pro',
    'replicate/stability-ai/sdxl',
  ],
  async: true,
  startFake: () => startReplicateFake(),
  createAdapter: (fake, options) =>
    createReplicateAdapter({
      apiKey: fake.apiKey,
      baseURL: fake.url,
      pollIntervalMs: options?.pollIntervalMs ?? 10,
      cancelGraceMs: 1000,
    }),
};
