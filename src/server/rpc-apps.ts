import { fromJson, type JsonObject, type JsonValue, toJson } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import type { Actor } from '../apps/permissions.ts';
import type { ApplicationDetail, Applications, PreviewResult } from '../apps/service.ts';
import type { AuditEntry, VersionRecord } from '../apps/versions.ts';
import {
  ApplicationSchema,
  type ApplicationService,
  DiffApplicationResponseSchema,
  LabelApplicationResponseSchema,
  ListApplicationsResponseSchema,
  ListApplicationVersionsResponseSchema,
  PreviewApplicationResponseSchema,
  RollbackApplicationResponseSchema,
  UpdateApplicationResponseSchema,
} from '../gen/pixel/v1/apps_pb.ts';
import { GenerateRequestSchema as WireGenerateRequestSchema } from '../gen/pixel/v1/common_pb.ts';
import { invalidArgument } from '../protocol/errors.ts';

export interface ApplicationRpcDeps {
  applications: Applications;
  /** The caller resolved by the server's auth interceptor (e.g. `(ctx) => callerOf(ctx.values)`). */
  caller: (ctx: HandlerContext) => Actor;
}

/**
 * The Connect implementation of `pixel.v1.ApplicationService`: thin mapping between wire messages
 * and `Applications`. Errors are PixelErrors; the server's interceptor turns them into Connect codes.
 */
export function applicationServiceImpl(deps: ApplicationRpcDeps): ServiceImpl<typeof ApplicationService> {
  const apps = deps.applications;
  return {
    async listApplications(_req, ctx) {
      const list = await apps.list(deps.caller(ctx));
      return fromJson(ListApplicationsResponseSchema, {
        applications: list.map((a) => ({
          name: a.name,
          title: a.title,
          latestVersion: a.latestVersion,
          ...(a.defaultVersion !== null && { defaultVersion: a.defaultVersion }),
          labels: a.labels,
        })),
      });
    },

    async getApplication(req, ctx) {
      const detail = await apps.get(req.name, deps.caller(ctx), { label: req.label, version: req.version });
      return fromJson(ApplicationSchema, applicationJson(detail));
    },

    async previewApplication(req, ctx) {
      const request = req.request
        ? wireRequestFields(toJson(WireGenerateRequestSchema, req.request) as JsonObject)
        : {};
      const result = await apps.preview(
        { app: req.name, vars: { ...req.vars }, label: req.label, version: req.version, request },
        deps.caller(ctx),
      );
      return fromJson(PreviewApplicationResponseSchema, previewJson(result));
    },

    async updateApplication(req, ctx) {
      let profile: unknown;
      if (req.profile.case === 'json') profile = req.profile.value;
      else if (req.profile.case === 'yaml') profile = req.profile.value;
      else throw invalidArgument('profile', 'give the profile as json or yaml');
      const out = await apps.update(req.name, profile, deps.caller(ctx), {
        label: req.label,
        message: req.message,
        baseVersion: req.baseVersion,
        source: `${req.name} (update)`,
      });
      return fromJson(UpdateApplicationResponseSchema, out);
    },

    async labelApplication(req, ctx) {
      const { previous } = await apps.label(req.name, req.label, req.version, deps.caller(ctx), req.message);
      return fromJson(LabelApplicationResponseSchema, previous === null ? {} : { previousVersion: previous });
    },

    async diffApplication(req, ctx) {
      const diff = await apps.diff(req.name, req.fromVersion, req.toVersion, deps.caller(ctx));
      return fromJson(DiffApplicationResponseSchema, { changed: diff.changed, text: diff.text });
    },

    async rollbackApplication(req, ctx) {
      const out = await apps.rollback(req.name, deps.caller(ctx), { label: req.label, to: req.toVersion });
      return fromJson(RollbackApplicationResponseSchema, {
        label: out.label,
        fromVersion: out.from,
        toVersion: out.to,
      });
    },

    async listApplicationVersions(req, ctx) {
      const { versions, audit } = await apps.versions(req.name, deps.caller(ctx));
      return fromJson(ListApplicationVersionsResponseSchema, {
        versions: versions.map(versionJson),
        audit: audit.map(auditJson),
      });
    },
  };
}

/** Wire GenerateRequest JSON → unified fields (proto JSON names are the protocol's camelCase names). */
function wireRequestFields(json: JsonObject): Record<string, unknown> {
  const { idempotencyKey: _k, app: _a, vars: _v, appLabel: _l, appVersion: _n, ...rest } = json;
  if (rest.prompt === '') delete rest.prompt;
  if (rest.model === '') delete rest.model;
  return rest;
}

export function applicationJson(detail: ApplicationDetail): JsonObject {
  return {
    name: detail.version.application,
    version: versionJson(detail.version),
    via: detail.via,
    profile: JSON.parse(JSON.stringify(detail.version.profile)) as JsonObject,
    yaml: detail.yaml,
    labels: detail.labels.map((l) => ({
      label: l.label,
      version: l.version,
      history: l.history,
      updatedBy: l.updatedBy,
      updatedAt: l.updatedAt.toISOString(),
    })),
    ...(detail.defaultVersion !== null && { defaultVersion: detail.defaultVersion }),
    latestVersion: detail.latestVersion,
  };
}

function versionJson(v: VersionRecord): JsonObject {
  return {
    version: v.version,
    source: v.source,
    ...(v.sourceFile !== null && { sourceFile: v.sourceFile }),
    ...(v.baseVersion !== null && { baseVersion: v.baseVersion }),
    author: v.author,
    ...(v.authorTeam !== null && { authorTeam: v.authorTeam }),
    message: v.message,
    createdAt: v.createdAt.toISOString(),
    contentHash: v.contentHash,
  };
}

function auditJson(e: AuditEntry): JsonObject {
  const out: JsonObject = {
    action: e.action,
    actor: e.actor,
    message: e.message,
    createdAt: e.createdAt.toISOString(),
  };
  if (e.actorTeam !== null) out.actorTeam = e.actorTeam;
  if (e.actorRole !== null) out.actorRole = e.actorRole;
  if (e.version !== null) out.version = e.version;
  if (e.label !== null) out.label = e.label;
  if (e.previousVersion !== null) out.previousVersion = e.previousVersion;
  return out;
}

export function previewJson(result: PreviewResult): JsonObject {
  const r = result.resolved;
  const t = result.translation;
  return {
    app: r.app,
    appVersion: r.appVersion,
    via: r.via,
    prompt: r.prompt,
    ...(r.negativePrompt !== undefined && { negativePrompt: r.negativePrompt }),
    model: r.model,
    family: r.family,
    ...(r.variant !== null && { variant: r.variant }),
    params: plain(r.params) as JsonObject,
    provenance: r.provenance,
    rubric: r.rubric.map((q) => ({ ...q })),
    unusedVars: r.unusedVars,
    ...(r.routedModel !== undefined && { routedModel: r.routedModel }),
    report: result.report.map((line) => plain(line) as JsonObject),
    calls: t.calls.map((c) => ({
      count: c.count,
      ...(c.seed !== undefined && { seed: c.seed }),
      body: plain(c.body) as JsonObject,
    })),
    delivery: plain(t.delivery) as JsonObject,
    ...(t.costEstimateUsd !== null && { costEstimateUsd: t.costEstimateUsd }),
    fewShots: r.fewShots.map((f) => plain(f) as JsonObject),
  };
}

/** Drops undefined members (JSON has none; fromJson refuses them). */
function plain(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}
