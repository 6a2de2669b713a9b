import type { ProviderModule } from '../types.ts';
import { createBflAdapter } from './adapter.ts';

export const DEFAULT_BFL_BASE_URL = 'https://api.bfl.ai';

export const provider: ProviderModule = {
  name: 'bfl',
  env: [
    { name: 'BFL_API_KEY', secret: true, description: 'Black Forest Labs API key (sent as x-key)' },
    {
      name: 'BFL_BASE_URL',
      secret: false,
      description: `Black Forest Labs API base URL (default ${DEFAULT_BFL_BASE_URL}; regional: https://api.eu.bfl.ai, https://api.us.bfl.ai)`,
    },
  ],
  fromEnv(env) {
    const apiKey = env.BFL_API_KEY?.trim();
    if (!apiKey) return undefined;
    return createBflAdapter({ apiKey, baseURL: env.BFL_BASE_URL?.trim() || DEFAULT_BFL_BASE_URL });
  },
};
