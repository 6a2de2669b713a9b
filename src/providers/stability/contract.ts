import type { ProviderContract } from '../testing/types.ts';
import { createStabilityAdapter } from './adapter.ts';
import { startStabilityFake } from './fake.ts';

export const contract: ProviderContract = {
  provider: 'stability',
  modelIds: [
    'stability/sd3.5-large',
    'stability/stable-image-core',
    'stability/stable-diffusion-xl-1024-v1-0',
  ],
  // Synchronous API: no jobs to poll or cancel.
  async: false,
  startFake: () => startStabilityFake(),
  createAdapter: (fake) => createStabilityAdapter({ apiKey: fake.apiKey, baseURL: fake.url }),
};
