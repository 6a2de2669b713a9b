import type { ProviderModule } from '../types.ts';
import { createReplicateAdapter } from './adapter.ts';

export const DEFAULT_REPLICATE_BASE_URL = 'https://api.replicate.com/v1';

/** Env names follow Replicate's own clients (`REPLICATE_API_TOKEN`). */
export const provider: ProviderModule = {
  name: 'replicate',
  env: [
    { name: 'REPLICATE_API_TOKEN', secret: true, description: 'Replicate API token (r8_…)' },
    {
      name: 'REPLICATE_BASE_URL',
      secret: false,
      description: `Replicate API base URL (default ${DEFAULT_REPLICATE_BASE_URL})`,
    },
  ],
  fromEnv(env) {
    const apiKey = env.REPLICATE_API_TOKEN?.trim();
    if (!apiKey) return undefined;
    return createReplicateAdapter({
      apiKey,
      baseURL: env.REPLICATE_BASE_URL?.trim() || DEFAULT_REPLICATE_BASE_URL,
    });
  },
};
