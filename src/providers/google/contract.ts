import type { ProviderContract } from '../testing/types.ts';
import { createGoogleAdapter } from './adapter.ts';
import { startGoogleFake } from './fake.ts';

export const contract: ProviderContract = {
  provider: 'google',
  modelIds: ['google/gemini-2.5-flash-image'],
  async: false,
  startFake: () => startGoogleFake(),
  createAdapter: (fake) => createGoogleAdapter({ apiKey: fake.apiKey, baseURL: fake.url }),
};
