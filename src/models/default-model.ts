import type { ProviderName } from './schema.ts';

/** Which environment variables make each provider usable (any one of each inner list suffices). */
const PROVIDER_ENV: ReadonlyArray<[ProviderName, string[][]]> = [
  ['openai', [['OPENAI_API_KEY']]],
  ['stability', [['STABILITY_API_KEY']]],
  ['replicate', [['REPLICATE_API_TOKEN']]],
  ['fal', [['FAL_KEY']]],
  ['bfl', [['BFL_API_KEY']]],
  ['google', [['GOOGLE_API_KEY'], ['GEMINI_API_KEY'], ['GOOGLE_GENERATIVE_AI_API_KEY']]],
  ['vertex', [['GOOGLE_VERTEX_PROJECT', 'GOOGLE_VERTEX_ACCESS_TOKEN']]],
  [
    'bedrock',
    [['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'], ['AWS_PROFILE'], ['AWS_BEARER_TOKEN_BEDROCK']],
  ],
  ['a1111', [['A1111_BASE_URL']]],
  ['comfyui', [['COMFYUI_BASE_URL']]],
];

/** Providers with credentials (or a base URL, for self-hosted ones) in `env`. Never reads the values' content. */
export function configuredProviders(env: NodeJS.ProcessEnv = process.env): ProviderName[] {
  const set = (name: string) => (env[name] ?? '').trim() !== '';
  return PROVIDER_ENV.filter(([, options]) => options.some((names) => names.every(set))).map(([p]) => p);
}

/**
 * The model used when a request names none: `pixel/sketch` out of the box (no keys), otherwise
 * PIXEL_DEFAULT_MODEL when set. The name is resolved later, so a wrong value fails with suggestions.
 */
export function defaultModelId(env: NodeJS.ProcessEnv = process.env): string {
  if (configuredProviders(env).length === 0) return 'pixel/sketch';
  const chosen = env.PIXEL_DEFAULT_MODEL?.trim();
  return chosen ? chosen : 'pixel/sketch';
}
