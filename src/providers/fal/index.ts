import type { ProviderModule } from '../types.ts';
import { createFalAdapter } from './adapter.ts';

export const DEFAULT_FAL_QUEUE_BASE_URL = 'https://queue.fal.run';
export const DEFAULT_FAL_RUN_BASE_URL = 'https://fal.run';

export const provider: ProviderModule = {
  name: 'fal',
  env: [
    { name: 'FAL_KEY', secret: true, description: 'fal API key (sent as Authorization: Key …)' },
    {
      name: 'FAL_QUEUE_BASE_URL',
      secret: false,
      description: `fal queue base URL (default ${DEFAULT_FAL_QUEUE_BASE_URL})`,
    },
    {
      name: 'FAL_RUN_BASE_URL',
      secret: false,
      description: `fal synchronous endpoint base URL (default ${DEFAULT_FAL_RUN_BASE_URL})`,
    },
    { name: 'FAL_MODE', secret: false, description: '`queue` (default: poll, cancel on abort) or `sync`' },
    {
      name: 'FAL_REST_BASE_URL',
      secret: false,
      description: 'fal REST base URL for storage uploads (fine-tune datasets; default https://rest.fal.ai)',
    },
  ],
  fromEnv(env) {
    const apiKey = env.FAL_KEY?.trim();
    if (!apiKey) return undefined;
    return createFalAdapter({
      apiKey,
      queueBaseURL: env.FAL_QUEUE_BASE_URL?.trim() || DEFAULT_FAL_QUEUE_BASE_URL,
      runBaseURL: env.FAL_RUN_BASE_URL?.trim() || DEFAULT_FAL_RUN_BASE_URL,
      mode: env.FAL_MODE?.trim() === 'sync' ? 'sync' : 'queue',
    });
  },
};
