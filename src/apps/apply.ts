import { PixelError } from '../protocol/errors.ts';
import { parseGenerateRequest } from '../protocol/request.ts';
import type { ReportLine } from '../translate/types.ts';
import { APP_REQUEST_FIELDS, appFieldsOf, type ResolvedApplication, type ResolveInput } from './resolve.ts';

/** Renders an application for a request: `Applications.resolve` bound to a store and catalogue. */
export type ApplicationResolver = (input: ResolveInput) => Promise<ResolvedApplication>;

export interface ApplicationUse {
  name: string;
  version: number;
  via: string;
  resolved: ResolvedApplication;
}

export interface AppliedRequest {
  /** The request to generate: unchanged without `app`, else the rendered prompt with merged parameters. */
  input: unknown;
  application?: ApplicationUse;
  /** Provenance lines to put in front of the translation report. */
  report: ReportLine[];
}

/**
 * The step generation runs first: a request naming `app` is validated as sent, rendered through
 * the application (the caller's fields win), and replaced by a plain unified request. It takes the
 * raw request, not a parsed one, because parsing fills defaults (n = 1…) that must not pass for
 * fields the caller set.
 */
export async function applyApplication(
  input: unknown,
  resolver: ApplicationResolver | undefined,
  team: string | undefined,
): Promise<AppliedRequest> {
  if (input === null || typeof input !== 'object' || (input as Record<string, unknown>).app === undefined)
    return { input, report: [] };
  parseGenerateRequest(input); // errors name the caller's fields as sent
  if (!resolver) {
    throw new PixelError({
      code: 'failed_precondition',
      field: 'app',
      reason: 'applications_unavailable',
      message:
        'this surface has no application catalogue (it needs the catalogue database); send a prompt instead',
    });
  }
  const raw = input as Record<string, unknown>;
  const fields = appFieldsOf(raw);
  const request: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value !== undefined && !(APP_REQUEST_FIELDS as readonly string[]).includes(key)) request[key] = value;
  }
  const resolved = await resolver({
    app: fields.app,
    vars: fields.vars,
    label: fields.label,
    version: fields.version,
    team,
    request,
  });
  return {
    input: resolved.request,
    application: { name: resolved.app, version: resolved.appVersion, via: resolved.via, resolved },
    report: resolved.report,
  };
}
