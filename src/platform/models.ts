import { type Catalog, defaultCatalog, defaultModelId } from '../models/catalog.ts';
import type { ProviderName } from '../models/schema.ts';
import { createAdapters } from '../providers/registry.ts';
import type { ProviderAdapter } from '../providers/types.ts';

/** The model catalogue and the providers this host can reach: everything that needs no database. */
export interface ModelPlatform {
  env: NodeJS.ProcessEnv;
  catalog: Catalog;
  adapters: ReadonlyMap<ProviderName, ProviderAdapter>;
  adapter(provider: ProviderName): ProviderAdapter | undefined;
  /** Whether a catalogue model can run here (its provider is configured). */
  available(modelId: string): boolean;
  /** The model a request without `model` gets (PIXEL_DEFAULT_MODEL, else the best configured). */
  defaultModel: string;
}

export interface ModelPlatformDeps {
  env?: NodeJS.ProcessEnv;
  catalog?: Catalog;
  /** Provider adapters; default `createAdapters(env)` (each wrapped once in the reliability layer). */
  adapters?: ReadonlyMap<ProviderName, ProviderAdapter>;
}

export function composeModels(deps: ModelPlatformDeps = {}): ModelPlatform {
  const env = deps.env ?? process.env;
  const catalog = deps.catalog ?? defaultCatalog();
  const adapters = deps.adapters ?? createAdapters(env);
  return {
    env,
    catalog,
    adapters,
    adapter: (provider) => adapters.get(provider),
    available: (modelId) => {
      const entry = catalog.get(modelId);
      return entry !== undefined && adapters.has(entry.provider);
    },
    defaultModel: defaultModelId(env),
  };
}
