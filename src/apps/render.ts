import type { Catalog } from '../models/catalog.ts';
import type { Family } from '../models/schema.ts';
import type { ReportLine } from '../translate/types.ts';
import type { Provenance } from './resolve.ts';
import type { AppParams, AppProfile, FewShot, RubricQuestion, Variant } from './schema.ts';
import { type RenderPart, renderAll, type Vars } from './template.ts';

export interface RenderedProfile {
  prompt: string;
  negativePrompt?: string;
  model: string;
  family: Family;
  variant: string | null;
  params: Record<string, unknown>;
  provenance: Record<string, Provenance>;
  rubric: RubricQuestion[];
  fewShots: FewShot[];
  routedModel?: string;
  unusedVars: string[];
  report: ReportLine[];
  request: Record<string, unknown>;
}

export interface RenderDeps {
  catalog: Catalog;
  defaultModel?: string;
  available?: (modelId: string) => boolean;
}

/** Size fields travel together: a request giving any of them replaces the application's whole size. */
const SIZE_FIELDS = ['width', 'height', 'aspectRatio'] as const;

/** The variant claiming a model family, if any. */
export function variantFor(
  profile: AppProfile,
  family: Family,
): { name: string; variant: Variant } | undefined {
  for (const [name, variant] of Object.entries(profile.variants)) {
    if (variant.families.includes(family)) return { name, variant };
  }
  return undefined;
}

/**
 * Renders one profile for one request. Precedence for every field: the request, then the variant
 * for the model's family, then the application defaults. The model is the request's, else the
 * fine-tune routed by product category (when it exists in the catalogue), else the application's
 * default (or, when that cannot run here, the first candidate that can).
 */
export function renderProfile(
  profile: AppProfile,
  vars: Vars,
  request: Record<string, unknown>,
  deps: RenderDeps,
): RenderedProfile {
  const report: ReportLine[] = [];
  const provenance: Record<string, Provenance> = {};
  const given = (key: string) => request[key] !== undefined && request[key] !== null;
  const effective: Vars = { ...declaredDefaults(profile), ...vars };

  // Model: request → fine-tune by category → application default (→ an available candidate).
  let model: string;
  let routedModel: string | undefined;
  if (given('model')) {
    model = String(request.model);
    provenance.model = 'request';
    if (profile.defaults.model && profile.defaults.model !== model) {
      report.push(
        line('app.model', model, `from the request (application default ${profile.defaults.model})`),
      );
    }
  } else {
    const routed = routeFinetune(profile, effective, deps.catalog, report);
    if (routed) {
      model = routed;
      routedModel = routed;
    } else {
      model = pickDefaultModel(profile, deps, report);
    }
    provenance.model = 'application';
  }
  const entry = deps.catalog.resolve(model).routes[0]!;
  const family = entry.family;
  const chosen = variantFor(profile, family);

  // Prompt, negative prompt and rubric are rendered together so one error lists every missing variable.
  const parts: RenderPart[] = [];
  const promptFromRequest = given('prompt');
  const promptField = chosen?.variant.template ? `variants.${chosen.name}.template` : 'template';
  if (!promptFromRequest)
    parts.push({ field: promptField, template: chosen?.variant.template ?? profile.template });
  const negativeFromRequest = given('negativePrompt');
  const negativeTemplate = chosen?.variant.negativePrompt ?? profile.negativePrompt;
  const negativeField = chosen?.variant.negativePrompt
    ? `variants.${chosen.name}.negativePrompt`
    : 'negativePrompt';
  if (!negativeFromRequest && negativeTemplate)
    parts.push({ field: negativeField, template: negativeTemplate });
  const rubricStart = parts.length;
  for (const [i, q] of profile.rubric.entries())
    parts.push({ field: `rubric[${i}].question`, template: q.question });
  const categoryVar = profile.finetunes?.categoryVar;
  const { texts, unused } = renderAll(parts, effective, categoryVar ? [categoryVar] : []);
  // Unused is about what the caller gave; declared defaults nobody uses are not the caller's doing.
  const unusedVars = unused.filter((name) => name in vars);

  let next = 0;
  let prompt: string;
  if (promptFromRequest) {
    prompt = String(request.prompt);
    provenance.prompt = 'request';
    report.push(
      line('app.prompt', undefined, 'given in the request; the application template was not rendered'),
    );
  } else {
    prompt = texts[next++]!;
    provenance.prompt = chosen?.variant.template ? 'model-variant' : 'application';
    report.push(
      line(
        'app.prompt',
        undefined,
        chosen?.variant.template
          ? `rendered from variant "${chosen.name}" (${family} models)`
          : `rendered from the application template${chosen ? ` (variant "${chosen.name}" for ${family})` : ''}`,
      ),
    );
  }
  let negativePrompt: string | undefined;
  if (negativeFromRequest) {
    negativePrompt = String(request.negativePrompt);
    provenance.negativePrompt = 'request';
  } else if (negativeTemplate) {
    negativePrompt = texts[next++]!;
    provenance.negativePrompt = chosen?.variant.negativePrompt ? 'model-variant' : 'application';
    report.push(
      line(
        'app.negativePrompt',
        negativePrompt,
        provenance.negativePrompt === 'model-variant'
          ? `from variant "${chosen!.name}"`
          : 'application default',
      ),
    );
  }
  // A question wrapped in an optional variable's section (`{{#features}}…{{/features}}`) applies only
  // when the variable is given: rendered empty, it is left out.
  const rubric = profile.rubric
    .map((q, i) => ({ ...q, question: texts[rubricStart + i]! }))
    .filter((q) => q.question.trim() !== '');

  const params = mergeParams(profile.defaults, chosen, request, provenance, report);
  params.model = model;
  if (unusedVars.length > 0) {
    report.push({
      param: 'vars',
      status: 'dropped',
      requested: unusedVars,
      note: `not used by application ${profile.name}: ${unusedVars.join(', ')}`,
    });
  }
  const out: Record<string, unknown> = { ...params, prompt };
  if (negativePrompt) out.negativePrompt = negativePrompt;
  return {
    prompt,
    ...(negativePrompt !== undefined && { negativePrompt }),
    model,
    family,
    variant: chosen?.name ?? null,
    params,
    provenance,
    rubric,
    fewShots: profile.fewShots,
    ...(routedModel !== undefined && { routedModel }),
    unusedVars,
    report,
    request: out,
  };
}

function declaredDefaults(profile: AppProfile): Vars {
  const out: Vars = {};
  for (const [name, variable] of Object.entries(profile.variables))
    if (variable.default !== undefined) out[name] = variable.default;
  return out;
}

function mergeParams(
  defaults: AppParams,
  chosen: { name: string; variant: Variant } | undefined,
  request: Record<string, unknown>,
  provenance: Record<string, Provenance>,
  report: ReportLine[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const layers: [Record<string, unknown>, Provenance][] = [
    [{ ...defaults, model: undefined }, 'application'],
    [{ ...(chosen?.variant.params ?? {}) }, 'model-variant'],
  ];
  const requestSize = SIZE_FIELDS.some((k) => request[k] !== undefined && request[k] !== null);
  for (const [values, source] of layers) {
    // A layer that sets a size replaces the earlier layer's whole size, like the request does.
    if (SIZE_FIELDS.some((k) => values[k] !== undefined)) {
      for (const k of SIZE_FIELDS) {
        delete out[k];
        delete provenance[k];
      }
    }
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) continue;
      out[key] = value;
      provenance[key] = source;
    }
  }
  const fromApp = { ...out };
  if (requestSize) {
    for (const k of SIZE_FIELDS) {
      delete out[k];
      delete provenance[k];
    }
  }
  for (const [key, value] of Object.entries(request)) {
    if (
      value === undefined ||
      value === null ||
      key === 'prompt' ||
      key === 'negativePrompt' ||
      key === 'model'
    )
      continue;
    out[key] = value;
    provenance[key] = 'request';
  }
  for (const [key, source] of Object.entries(provenance)) {
    if (key === 'model' || key === 'prompt' || key === 'negativePrompt') continue;
    if (source === 'request') {
      if (key in fromApp)
        report.push(
          line(
            `app.${key}`,
            out[key],
            `from the request (application value ${JSON.stringify(fromApp[key])})`,
          ),
        );
    } else {
      report.push(
        line(
          `app.${key}`,
          out[key],
          source === 'model-variant' ? `from variant "${chosen?.name}"` : 'application default',
        ),
      );
    }
  }
  for (const k of SIZE_FIELDS) {
    if (requestSize && k in fromApp && !(k in out)) {
      report.push(
        line(
          `app.${k}`,
          undefined,
          `application value ${JSON.stringify(fromApp[k])} replaced by the size in the request`,
        ),
      );
    }
  }
  return out;
}

function routeFinetune(
  profile: AppProfile,
  vars: Vars,
  catalog: Catalog,
  report: ReportLine[],
): string | undefined {
  const routing = profile.finetunes;
  if (!routing) return undefined;
  const category = vars[routing.categoryVar];
  if (!category) return undefined;
  const target = routing.routes[category];
  if (!target) {
    report.push(
      line(
        'app.model',
        undefined,
        `no fine-tune routed for ${routing.categoryVar} "${category}"; using the default model`,
      ),
    );
    return undefined;
  }
  try {
    catalog.resolve(target);
  } catch {
    report.push({
      param: 'app.model',
      status: 'adjusted',
      requested: target,
      note: `fine-tune ${target} for ${routing.categoryVar} "${category}" is not in the catalogue (not trained yet); using the default model`,
    });
    return undefined;
  }
  report.push(
    line('app.model', target, `routed to fine-tune ${target} for ${routing.categoryVar} "${category}"`),
  );
  return target;
}

function pickDefaultModel(profile: AppProfile, deps: RenderDeps, report: ReportLine[]): string {
  const wanted = profile.defaults.model ?? deps.defaultModel ?? 'pixel/sketch';
  if (!deps.available || deps.available(wanted)) {
    report.push(
      line(
        'app.model',
        wanted,
        profile.defaults.model ? 'application default' : 'server default (the application names no model)',
      ),
    );
    return wanted;
  }
  const candidate = profile.candidates.find((id) => id !== wanted && deps.available!(id));
  if (!candidate) return wanted; // generation will say which provider is missing
  report.push({
    param: 'app.model',
    status: 'adjusted',
    requested: wanted,
    sent: candidate,
    note: `application default ${wanted} cannot run here (provider not configured); using candidate ${candidate}`,
  });
  return candidate;
}

function line(param: string, sent: unknown, note: string): ReportLine {
  return sent === undefined ? { param, status: 'native', note } : { param, status: 'native', sent, note };
}
