import type { ProviderModule } from '../types.ts';
import { createA1111Adapter } from './adapter.ts';

/** A self-hosted AUTOMATIC1111 / Forge WebUI started with `--api`; configured only by its URL. */
export const provider: ProviderModule = {
  name: 'a1111',
  env: [
    {
      name: 'A1111_BASE_URL',
      secret: false,
      description: 'WebUI address, e.g. http://127.0.0.1:7860 (unset: off)',
    },
    { name: 'A1111_USERNAME', secret: false, description: '`--api-auth` user name (optional)' },
    { name: 'A1111_PASSWORD', secret: true, description: '`--api-auth` password (optional)' },
  ],
  fromEnv(env) {
    const baseURL = env.A1111_BASE_URL?.trim();
    if (!baseURL) return undefined;
    const username = env.A1111_USERNAME?.trim() || undefined;
    const password = env.A1111_PASSWORD || undefined;
    return createA1111Adapter({ baseURL, username, password });
  },
};
