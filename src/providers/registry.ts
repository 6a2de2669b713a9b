import type { ProviderName } from '../models/schema.ts';
import { registerSecretsFromEnv } from '../protocol/secrets.ts';
import { provider as a1111 } from './a1111/index.ts';
import { provider as bedrock } from './bedrock/index.ts';
import { provider as bfl } from './bfl/index.ts';
import { provider as comfyui } from './comfyui/index.ts';
import { provider as fal } from './fal/index.ts';
import { provider as google } from './google/index.ts';
import { provider as openai } from './openai/index.ts';
import { provider as pixel } from './pixel/index.ts';
import type { Clock } from './reliability/clock.ts';
import { reliabilityPolicyFromEnv } from './reliability/policy.ts';
import { type ReliableAdapter, withReliability } from './reliability/with-reliability.ts';
import { provider as replicate } from './replicate/index.ts';
import { provider as stability } from './stability/index.ts';
import type { ProviderModule } from './types.ts';
import { provider as vertex } from './vertex/index.ts';

/** Every provider folder's module, in catalogue order. */
export const PROVIDER_MODULES: readonly ProviderModule[] = [
  openai,
  stability,
  replicate,
  fal,
  bfl,
  google,
  vertex,
  bedrock,
  a1111,
  comfyui,
  pixel,
];

/**
 * The adapters of every provider configured in `env` (key or URL present), each wrapped once in
 * Pixel's reliability layer with its `PIXEL_<PROVIDER>_*` policy. Build it once per process: the
 * breaker, concurrency slots and token bucket live in the wrapper.
 */
export function createAdapters(
  env: NodeJS.ProcessEnv = process.env,
  options: { clock?: Clock; modules?: readonly ProviderModule[] } = {},
): Map<ProviderName, ReliableAdapter> {
  const adapters = new Map<ProviderName, ReliableAdapter>();
  const modules = options.modules ?? PROVIDER_MODULES;
  // Every credential these adapters may send is redacted by value wherever it is echoed back.
  registerSecretsFromEnv(
    env,
    modules.flatMap((m) => m.env.filter((v) => v.secret).map((v) => v.name)),
  );
  for (const module of modules) {
    const adapter = module.fromEnv(env);
    if (!adapter) continue;
    adapters.set(
      module.name,
      withReliability(adapter, reliabilityPolicyFromEnv(env, module.name), options.clock),
    );
  }
  return adapters;
}

/** The variable a user must set to turn a provider on (the first one it lists that is unset). */
export function missingVariable(
  module: ProviderModule,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return (module.env.find((v) => !env[v.name]?.trim()) ?? module.env[0])?.name;
}
