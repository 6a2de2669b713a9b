import type { ProviderModule } from '../types.ts';
import { createGoogleAdapter } from './adapter.ts';

export const DEFAULT_GOOGLE_BASE_URL = 'https://generativelanguage.googleapis.com';

/** The first key found wins, in the order Google's SDKs look (`GOOGLE_API_KEY` is genai's own name). */
const KEY_NAMES = ['GOOGLE_API_KEY', 'GEMINI_API_KEY', 'GOOGLE_GENERATIVE_AI_API_KEY'] as const;

export const provider: ProviderModule = {
  name: 'google',
  env: [
    { name: 'GOOGLE_API_KEY', secret: true, description: 'Gemini API key (AI Studio)' },
    { name: 'GEMINI_API_KEY', secret: true, description: 'Alternative name for the Gemini API key' },
    {
      name: 'GOOGLE_GENERATIVE_AI_API_KEY',
      secret: true,
      description: 'Alternative name for the Gemini API key (Vercel AI SDK convention)',
    },
    {
      name: 'GOOGLE_BASE_URL',
      secret: false,
      description: `Gemini API base URL (default ${DEFAULT_GOOGLE_BASE_URL})`,
    },
  ],
  fromEnv(env) {
    const apiKey = KEY_NAMES.map((name) => env[name]?.trim()).find((value) => value);
    if (!apiKey) return undefined;
    return createGoogleAdapter({ apiKey, baseURL: env.GOOGLE_BASE_URL?.trim() || DEFAULT_GOOGLE_BASE_URL });
  },
};
