import type { ProviderContract } from '../testing/types.ts';
import { createA1111Adapter } from './adapter.ts';
import { startA1111Fake } from './fake.ts';

export const contract: ProviderContract = {
  provider: 'a1111',
  modelIds: ['a1111/sdxl'],
  async: false,
  // A WebUI has no content filter and no request id; its 429s come from a proxy in front, with Retry-After.
  lacks: ['moderation', 'request_id'],
  startFake: () => startA1111Fake({ auth: { username: 'pixel', password: 'fake-webui-password' } }),
  createAdapter: (fake) => {
    const split = fake.apiKey.indexOf(':');
    return createA1111Adapter({
      baseURL: fake.url,
      username: split >= 0 ? fake.apiKey.slice(0, split) : fake.apiKey,
      password: split >= 0 ? fake.apiKey.slice(split + 1) : '',
    });
  },
};
