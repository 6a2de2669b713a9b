import { readdirSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PixelError } from '../protocol/errors.ts';
import type { ReportLine } from '../translate/types.ts';
import { checkEntry } from './checks.ts';
import { type CatalogSource, catalogError, formatPath, readCatalogFile } from './load.ts';
import type { Alias, GuidanceFamily, ModelEntry, ProviderName } from './schema.ts';
import { suggest } from './suggest.ts';

export { configuredProviders, defaultModelId } from './default-model.ts';

/** Where the shipped catalogue files live. */
export const CATALOG_DIR = fileURLToPath(new URL('./catalog/', import.meta.url));

/** Providers whose capabilities come from the deployment (PIXEL_SELFHOSTED_FILE). */
const SELF_HOSTED_PROVIDERS: ReadonlySet<ProviderName> = new Set<ProviderName>(['a1111', 'comfyui']);

export interface Resolution {
  /** The name as the caller wrote it (model id or alias). */
  requested: string;
  /** Active or deprecated entries, in the order they should be tried. */
  routes: ModelEntry[];
}

export interface Catalog {
  get(id: string): ModelEntry | undefined;
  list(): ModelEntry[];
  aliases(): Alias[];
  /** Model id or alias → routes; throws not_found (with suggestions) or failed_precondition (retired). */
  resolve(name: string): Resolution;
  /**
   * The prompt a model needs changed before translation (a fine-tune's trigger phrase), with the report
   * line saying so; undefined when it takes the prompt as written.
   */
  adjustPrompt?(modelId: string, prompt: string): { prompt: string; line: ReportLine } | undefined;
}

export interface LoadCatalogOptions {
  /** A YAML file of self-hosted entries that add to or override the shipped ones. */
  selfHostedFile?: string;
  /** More catalogue files (same schema) with new entries and aliases; duplicates are errors. */
  extraFiles?: string[];
  /** Folder of the shipped files; tests point it elsewhere. */
  dir?: string;
}

interface Origin {
  source: CatalogSource;
  index: number;
}

/** Reads and validates every catalogue file. Synchronous and I/O-light: it runs at CLI start. */
export function loadCatalog(options: LoadCatalogOptions = {}): Catalog {
  const dir = options.dir ?? CATALOG_DIR;
  const shipped = readdirSync(dir)
    .filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'))
    .sort()
    .map((name) => join(dir, name));
  const models = new Map<string, ModelEntry>();
  const origins = new Map<string, Origin>();
  const aliases = new Map<string, Alias>();
  const aliasOrigins = new Map<string, Origin>();
  const guidance = new Map<string, GuidanceFamily>();
  const guidanceOrigins = new Map<string, Origin>();

  const add = (file: string, selfHosted: boolean) => {
    const source = readCatalogFile(file);
    source.data.models.forEach((raw, index) => {
      const entry = selfHosted ? { ...raw, selfHosted: true } : raw;
      const at = (path: (string | number)[]) => source.locate(['models', index, ...path]);
      if (selfHosted && !SELF_HOSTED_PROVIDERS.has(entry.provider)) {
        throw catalogError(
          at(['provider']),
          `models[${index}].provider`,
          `model "${entry.id}" provider: a self-hosted entry must be a1111 or comfyui, got ${entry.provider}`,
        );
      }
      const previous = origins.get(entry.id);
      if (previous && !selfHosted) {
        throw catalogError(
          at(['id']),
          `models[${index}].id`,
          `model "${entry.id}" is already defined in ${previous.source.locate(['models', previous.index, 'id'])}`,
        );
      }
      const problem = checkEntry(entry)[0];
      if (problem) {
        throw catalogError(
          at([...problem.path]),
          formatPath(['models', index, ...problem.path]),
          `model "${entry.id}" ${formatPath(problem.path)}: ${problem.message}`,
        );
      }
      models.set(entry.id, entry);
      origins.set(entry.id, { source, index });
    });
    source.data.guidance.forEach((family, index) => {
      const previous = guidanceOrigins.get(family.id);
      if (previous) {
        throw catalogError(
          source.locate(['guidance', index, 'id']),
          `guidance[${index}].id`,
          `guidance family "${family.id}" is already defined in ${previous.source.locate(['guidance', previous.index])}`,
        );
      }
      if (!(family.min <= family.default && family.default <= family.max)) {
        throw catalogError(
          source.locate(['guidance', index]),
          `guidance[${index}]`,
          `guidance family "${family.id}" needs min <= default <= max, got ${family.min}/${family.default}/${family.max}`,
        );
      }
      guidance.set(family.id, family);
      guidanceOrigins.set(family.id, { source, index });
    });
    source.data.aliases.forEach((alias, index) => {
      const previous = aliasOrigins.get(alias.alias);
      if (previous) {
        throw catalogError(
          source.locate(['aliases', index, 'alias']),
          `aliases[${index}].alias`,
          `alias "${alias.alias}" is already defined in ${previous.source.locate(['aliases', previous.index])}`,
        );
      }
      aliases.set(alias.alias, alias);
      aliasOrigins.set(alias.alias, { source, index });
    });
  };

  for (const file of shipped) add(file, false);
  for (const file of options.extraFiles ?? []) add(resolvePath(file), false);
  if (options.selfHostedFile) add(resolvePath(options.selfHostedFile), true);

  checkReferences(models, origins, aliases, aliasOrigins);
  resolveGuidance(models, origins, guidance);
  return createCatalog(models, aliases);
}

/** Every entry's cfg names a guidance family defined in some catalogue file; its useful range is copied in. */
function resolveGuidance(
  models: Map<string, ModelEntry>,
  origins: Map<string, Origin>,
  guidance: Map<string, GuidanceFamily>,
): void {
  for (const [id, entry] of models) {
    if (!entry.cfg) continue;
    const named = entry.cfg.family;
    const family = named === undefined ? undefined : guidance.get(named);
    if (!family) {
      const { source, index } = origins.get(id)!;
      const known = [...guidance.keys()].join(', ');
      throw catalogError(
        source.locate(['models', index, 'cfg', ...(named === undefined ? [] : ['family'])]),
        `models[${index}].cfg.family`,
        named === undefined
          ? `model "${id}" cfg.family: name the guidance family of the weights (one of ${known}, or one defined in a guidance: list)`
          : `model "${id}" cfg.family: "${named}" is not a guidance family (known: ${known})`,
      );
    }
    const useful = { min: family.min, default: family.default, max: family.max };
    models.set(id, { ...entry, cfg: { ...entry.cfg, useful } });
  }
}

/** Replacements and alias routes must name models that exist (and a replacement must not be retired). */
function checkReferences(
  models: Map<string, ModelEntry>,
  origins: Map<string, Origin>,
  aliases: Map<string, Alias>,
  aliasOrigins: Map<string, Origin>,
): void {
  for (const entry of models.values()) {
    if (entry.status.state === 'active' || entry.status.replacement === undefined) continue;
    const { source, index } = origins.get(entry.id)!;
    const target = models.get(entry.status.replacement);
    if (!target || target.status.state === 'retired') {
      throw catalogError(
        source.locate(['models', index, 'status', 'replacement']),
        `models[${index}].status.replacement`,
        `model "${entry.id}" status.replacement: "${entry.status.replacement}" ${target ? 'is retired too' : 'is not in the catalogue'}`,
      );
    }
  }
  for (const alias of aliases.values()) {
    const { source, index } = aliasOrigins.get(alias.alias)!;
    if (models.has(alias.alias)) {
      throw catalogError(
        source.locate(['aliases', index, 'alias']),
        `aliases[${index}].alias`,
        `alias "${alias.alias}" has the same name as a model`,
      );
    }
    alias.routes.forEach((route, r) => {
      if (!models.has(route)) {
        throw catalogError(
          source.locate(['aliases', index, 'routes', r]),
          `aliases[${index}].routes[${r}]`,
          `alias "${alias.alias}" routes[${r}]: "${route}" is not in the catalogue`,
        );
      }
    });
  }
}

function createCatalog(models: Map<string, ModelEntry>, aliases: Map<string, Alias>): Catalog {
  const list = [...models.values()];
  const aliasList = [...aliases.values()];
  return {
    get: (id) => models.get(id),
    list: () => [...list],
    aliases: () => [...aliasList],
    resolve(name) {
      const requested = name.trim();
      const entry = models.get(requested);
      if (entry) {
        if (entry.status.state === 'retired') throw retiredError(entry);
        return { requested, routes: [entry] };
      }
      const alias = aliases.get(requested);
      if (alias) {
        const all = alias.routes.map((id) => models.get(id)!);
        const routes = all.filter((route) => route.status.state !== 'retired');
        if (routes.length === 0) throw retiredError(all[0]!, requested);
        return { requested, routes };
      }
      const suggestions = suggest(requested, [...models.keys(), ...aliases.keys()]);
      const hint = suggestions.length > 0 ? `; did you mean ${suggestions.join(', ')}?` : '';
      throw new PixelError({
        code: 'not_found',
        field: 'model',
        reason: 'unknown_model',
        message: `unknown model "${requested}"${hint} (pixel models lists them)`,
      });
    },
  };
}

function retiredError(entry: ModelEntry, viaAlias?: string): PixelError {
  const status = entry.status as Extract<ModelEntry['status'], { state: 'retired' }>;
  const via = viaAlias ? ` (every route of alias "${viaAlias}" is retired)` : '';
  return new PixelError({
    code: 'failed_precondition',
    field: 'model',
    reason: 'model_retired',
    message: `${entry.id} was retired on ${status.date}; use ${status.replacement} instead${via}`,
  });
}

let cached: Catalog | undefined;

/** The shipped catalogue plus PIXEL_SELFHOSTED_FILE, loaded once per process. */
export function defaultCatalog(): Catalog {
  cached ??= loadCatalog({ selfHostedFile: process.env.PIXEL_SELFHOSTED_FILE || undefined });
  return cached;
}
