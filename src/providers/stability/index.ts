import type { ProviderModule } from '../types.ts';
import { createStabilityAdapter } from './adapter.ts';

export const DEFAULT_STABILITY_BASE_URL = 'https://api.stability.ai';

export const provider: ProviderModule = {
  name: 'stability',
  env: [
    { name: 'STABILITY_API_KEY', secret: true, description: 'Stability AI API key (sk-…)' },
    {
      name: 'STABILITY_BASE_URL',
      secret: false,
      description: `Stability AI API base URL (default ${DEFAULT_STABILITY_BASE_URL})`,
    },
    {
      name: 'STABILITY_CLIENT_ID',
      secret: false,
      description: 'Optional stability-client-id header identifying the calling application',
    },
  ],
  fromEnv(env) {
    const apiKey = env.STABILITY_API_KEY?.trim();
    if (!apiKey) return undefined;
    const clientId = env.STABILITY_CLIENT_ID?.trim();
    return createStabilityAdapter({
      apiKey,
      baseURL: env.STABILITY_BASE_URL?.trim() || DEFAULT_STABILITY_BASE_URL,
      ...(clientId ? { clientId } : {}),
    });
  },
};
