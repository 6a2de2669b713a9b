import type { ProviderModule } from '../types.ts';
import { createOpenAIAdapter } from './adapter.ts';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** Same variables as the official OpenAI SDKs. */
export const provider: ProviderModule = {
  name: 'openai',
  env: [
    { name: 'OPENAI_API_KEY', secret: true, description: 'OpenAI API key (Authorization: Bearer)' },
    {
      name: 'OPENAI_BASE_URL',
      secret: false,
      description: `API base URL including /v1 (default ${OPENAI_DEFAULT_BASE_URL})`,
    },
    { name: 'OPENAI_ORG_ID', secret: false, description: 'optional OpenAI-Organization header' },
    { name: 'OPENAI_PROJECT_ID', secret: false, description: 'optional OpenAI-Project header' },
  ],
  fromEnv(env) {
    const apiKey = env.OPENAI_API_KEY?.trim();
    if (!apiKey) return undefined;
    return createOpenAIAdapter({
      apiKey,
      baseURL: env.OPENAI_BASE_URL?.trim() || OPENAI_DEFAULT_BASE_URL,
      organization: env.OPENAI_ORG_ID?.trim() || undefined,
      project: env.OPENAI_PROJECT_ID?.trim() || undefined,
    });
  },
};
