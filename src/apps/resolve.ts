import type { Catalog } from '../models/catalog.ts';
import type { Family } from '../models/schema.ts';
import { PixelError } from '../protocol/errors.ts';
import type { ReportLine } from '../translate/types.ts';
import { type RenderedProfile, renderProfile } from './render.ts';
import type { FewShot, RubricQuestion } from './schema.ts';
import { type Vars, validateVars } from './template.ts';
import type { ApplicationVersions, ResolvedVia, VersionRecord } from './versions.ts';

export type Provenance = 'request' | 'application' | 'model-variant';

export interface ResolveInput {
  app: string;
  vars?: Record<string, string>;
  label?: string;
  version?: number;
  /** Shortcut for `request.model`. */
  model?: string;
  /** The caller's team: its `team:<team>` label is looked up first. */
  team?: string;
  /** Unified-request fields the caller gave (unparsed); each one wins over the application's value. */
  request?: Record<string, unknown>;
}

export interface ResolvedApplication {
  app: string;
  appVersion: number;
  /** Which step of the resolution order found the version. */
  via: ResolvedVia;
  prompt: string;
  negativePrompt?: string;
  /** The model the request will use and its prompt-style family. */
  model: string;
  family: Family;
  /** The variant whose families include `family`, if any. */
  variant: string | null;
  /** Unified parameters after merging (request over variant over application defaults), model included. */
  params: Record<string, unknown>;
  provenance: Record<string, Provenance>;
  rubric: RubricQuestion[];
  fewShots: FewShot[];
  quality: VersionRecord['profile']['quality'];
  outputs: VersionRecord['profile']['outputs'];
  /** Set when a product category routed the request to a fine-tune that exists. */
  routedModel?: string;
  /** Variables the caller gave that nothing used. */
  unusedVars: string[];
  /** Where every value came from, as translation-report lines (`app`, `app.prompt`, `app.cfgScale`…). */
  report: ReportLine[];
  /** The complete unified request (prompt and parameters), ready for `parseGenerateRequest`. */
  request: Record<string, unknown>;
}

export interface ResolveDeps {
  store: Pick<ApplicationVersions, 'resolveVersion'>;
  catalog: Catalog;
  /** Used when neither the request nor the application names a model. */
  defaultModel?: string;
  /** Whether a model can run here (its provider is configured); when the application's default cannot, a candidate that can is used. */
  available?: (modelId: string) => boolean;
}

/** The application fields a unified request carries; they are consumed here and never reach translation. */
export const APP_REQUEST_FIELDS = ['app', 'vars', 'appLabel', 'appVersion'] as const;

/**
 * Finds the version (team label → production → file default, unless a label or version is named),
 * then renders it for the model the request will use. See `renderProfile` for the merge rules.
 */
export async function resolveApplication(
  input: ResolveInput,
  deps: ResolveDeps,
): Promise<ResolvedApplication> {
  const vars = validateVars(input.vars);
  const { record, via } = await deps.store.resolveVersion(input.app, {
    label: input.label,
    version: input.version,
    team: input.team,
  });
  const request = { ...(input.request ?? {}) };
  if (input.model !== undefined) request.model = input.model;
  for (const field of APP_REQUEST_FIELDS) delete request[field];
  const rendered = renderProfile(record.profile, vars, request, deps);
  return assemble(record, via, rendered);
}

function assemble(record: VersionRecord, via: ResolvedVia, r: RenderedProfile): ResolvedApplication {
  const viaText =
    via === 'version'
      ? 'asked for by number'
      : via === 'default'
        ? 'the file default (no team or production label)'
        : via.startsWith('label:')
          ? `label ${via.slice(6)}`
          : `label ${via}`;
  const head: ReportLine = {
    param: 'app',
    status: 'native',
    sent: `${record.application}@${record.version}`,
    note: `application ${record.application} version ${record.version}, ${viaText}`,
  };
  return {
    app: record.application,
    appVersion: record.version,
    via,
    prompt: r.prompt,
    ...(r.negativePrompt !== undefined && { negativePrompt: r.negativePrompt }),
    model: r.model,
    family: r.family,
    variant: r.variant,
    params: r.params,
    provenance: r.provenance,
    rubric: r.rubric,
    fewShots: r.fewShots,
    quality: record.profile.quality,
    outputs: record.profile.outputs,
    ...(r.routedModel !== undefined && { routedModel: r.routedModel }),
    unusedVars: r.unusedVars,
    report: [head, ...r.report],
    request: r.request,
  };
}

/** Reads `app`, `vars`, `appLabel`, `appVersion` from a raw request object (already validated by the protocol schema). */
export function appFieldsOf(raw: Record<string, unknown>): {
  app: string;
  vars: Vars;
  label?: string;
  version?: number;
} {
  const app = raw.app;
  if (typeof app !== 'string')
    throw new PixelError({
      code: 'invalid_argument',
      field: 'app',
      message: 'app must be an application name',
    });
  return {
    app: app.trim(),
    vars: validateVars(raw.vars),
    ...(typeof raw.appLabel === 'string' && { label: raw.appLabel }),
    ...(typeof raw.appVersion === 'number' && { version: raw.appVersion }),
  };
}
