import type { Catalog } from '../models/catalog.ts';
import type { ModelEntry, ProviderName } from '../models/schema.ts';
import { PixelError } from '../protocol/errors.ts';

/**
 * OpenAI's model object (`id`, `object`, `created`, `owned_by`) plus Pixel's facts: whether it can run
 * on this server (`available`, and why not), its status and what it takes. Aliases are models too
 * (`owned_by: "pixel"`), available when any of their routes is.
 */
export interface ModelObject {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  pixel: {
    kind: 'model' | 'alias';
    available: boolean;
    unavailable_reason?: string;
    status: string;
    replacement?: string;
    display_name?: string;
    routes?: string[];
    input_images?: { max: number; mask: boolean };
  };
}

type Configured = (provider: ProviderName) => boolean;

function notConfigured(provider: string): string {
  return `provider ${provider} is not configured on this server (see the README for its environment variables)`;
}

function entryObject(entry: ModelEntry, configured: Configured): ModelObject {
  const available = configured(entry.provider) && entry.status.state !== 'retired';
  const status = entry.status;
  return {
    id: entry.id,
    object: 'model',
    created: 0,
    owned_by: entry.provider,
    pixel: {
      kind: 'model',
      available,
      ...(!available && {
        unavailable_reason:
          status.state === 'retired' ? `retired on ${status.date}` : notConfigured(entry.provider),
      }),
      status: status.state,
      ...('replacement' in status && status.replacement !== undefined && { replacement: status.replacement }),
      display_name: entry.displayName,
      ...(entry.inputImages && { input_images: entry.inputImages }),
    },
  };
}

function aliasObject(alias: string, catalog: Catalog, configured: Configured): ModelObject {
  const routes = catalog.aliases().find((a) => a.alias === alias)?.routes ?? [];
  const entries = routes.flatMap((id) => catalog.get(id) ?? []);
  const live = entries.filter((e) => e.status.state !== 'retired');
  const available = live.some((e) => configured(e.provider));
  return {
    id: alias,
    object: 'model',
    created: 0,
    owned_by: 'pixel',
    pixel: {
      kind: 'alias',
      available,
      ...(!available && {
        unavailable_reason:
          live.length === 0
            ? 'every route is retired'
            : `no route's provider is configured (${[...new Set(live.map((e) => e.provider))].join(', ')})`,
      }),
      status: live.length === 0 ? 'retired' : 'active',
      routes,
    },
  };
}

/** Every model and alias that is not retired: those that can run here first, then the others, marked. */
export function modelObjects(catalog: Catalog, configured: Configured): ModelObject[] {
  const all = [
    ...catalog
      .list()
      .filter((m) => m.status.state !== 'retired')
      .map((m) => entryObject(m, configured)),
    ...catalog.aliases().map((a) => aliasObject(a.alias, catalog, configured)),
  ];
  return [...all.filter((m) => m.pixel.available), ...all.filter((m) => !m.pixel.available)];
}

/**
 * One model by id (`openai/gpt-image-1.5`), alias (`flux-dev`) or bare OpenAI id (`gpt-image-1.5`).
 * Retired models are answered too (with their replacement); an unknown name is OpenAI's 404.
 */
export function modelObject(id: string, catalog: Catalog, configured: Configured): ModelObject {
  const entry = catalog.get(id) ?? (id.includes('/') ? undefined : catalog.get(`openai/${id}`));
  if (entry) return entryObject(entry, configured);
  if (catalog.aliases().some((a) => a.alias === id)) return aliasObject(id, catalog, configured);
  try {
    catalog.resolve(id);
  } catch (error) {
    // Words the not-found with suggestions.
    if (PixelError.isInstance(error) && error.code === 'not_found') {
      throw new PixelError({
        code: 'not_found',
        field: 'model',
        reason: 'model_not_found',
        message: error.message,
      });
    }
    throw error;
  }
  throw new PixelError({
    code: 'not_found',
    field: 'model',
    reason: 'model_not_found',
    message: `no model ${id}`,
  });
}
