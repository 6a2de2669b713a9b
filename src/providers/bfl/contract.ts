import type { ProviderContract } from '../testing/types.ts';
import { createBflAdapter } from './adapter.ts';
import { startBflFake } from './fake.ts';

export const contract: ProviderContract = {
  provider: 'bfl',
  modelIds: ['bfl/flux-dev', 'bfl/flux-pro-1.1'],
  // Jobs are async but BFL has no cancel endpoint: an abort only stops polling.
  async: false,
  startFake: () => startBflFake(),
  createAdapter: (fake, options) =>
    createBflAdapter({
      apiKey: fake.apiKey,
      baseURL: fake.url,
      pollIntervalMs: options?.pollIntervalMs ?? 10,
    }),
};
