import type { FakeServer, ProviderContract } from '../testing/types.ts';
import { createFalAdapter } from './adapter.ts';
import { type FalFake, startFalFake } from './fake.ts';

export const contract: ProviderContract = {
  provider: 'fal',
  modelIds: ['fal/fal-ai/flux/dev', 'fal/fal-ai/flux/schnell'],
  // Queue jobs with a cancel endpoint (PUT cancel_url).
  async: true,
  startFake: () => startFalFake(),
  createAdapter: (fake: FakeServer, options) =>
    createFalAdapter({
      apiKey: fake.apiKey,
      queueBaseURL: fake.url,
      runBaseURL: (fake as FalFake).runUrl,
      pollIntervalMs: options?.pollIntervalMs ?? 10,
    }),
};
