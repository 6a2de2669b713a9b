import type { ProviderContract } from '../testing/types.ts';
import { createOpenAIAdapter } from './adapter.ts';
import { startOpenAIFake } from './fake.ts';

export const contract: ProviderContract = {
  provider: 'openai',
  modelIds: ['openai/gpt-image-1.5', 'openai/gpt-image-2', 'openai/gpt-image-1-mini'],
  async: false,
  startFake: () => startOpenAIFake(),
  createAdapter: (fake) => createOpenAIAdapter({ apiKey: fake.apiKey, baseURL: fake.url }),
};
