import { fromJson, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { acceptedAt } from '../catalog/images.ts';
import type { GenerateRequest as WireGenerateRequest } from '../gen/pixel/v1/common_pb.ts';
import {
  type GenerateResponse,
  GenerateResponseSchema,
  type Image,
  ImageSchema,
} from '../gen/pixel/v1/images_pb.ts';
import { type GateSummary, gateOptionsFromWire, gateResultJson } from '../quality/gate/wire.ts';
import type { GenerateAndStoreResult, StoredImage } from './image-service.ts';

/**
 * Catalogue shapes → protobuf messages, through the messages' canonical JSON form: protobuf-es then does
 * the Struct/Value/Timestamp/int64 conversions, so this file only names fields.
 */
export function imageJson(image: StoredImage): JsonObject {
  return clean({
    id: image.id,
    url: image.url,
    key: image.blobKey,
    sha256: image.sha256,
    byteSize: String(image.byteSize),
    mediaType: image.mediaType,
    width: image.width,
    height: image.height,
    model: image.model,
    route: image.route,
    provider: image.provider,
    nativeRequest: asObject(image.nativeRequest),
    prompt: image.prompt,
    negativePrompt: image.negativePrompt ?? undefined,
    seed: image.seed ?? undefined,
    params: asObject(image.params),
    report: reportJson(image.report),
    costUsd: image.costUsd ?? undefined,
    latencyMs: image.latencyMs ?? 0,
    team: image.team,
    parentId: image.parentId ?? undefined,
    createdAt: image.createdAt.toISOString(),
    status: image.status,
    application: image.application ?? undefined,
    appVersion: image.appVersion === null ? undefined : String(image.appVersion),
    acceptedAt: acceptedAt(image)?.toISOString(),
    judge: asObject(image.judge),
  });
}

export function toImage(image: StoredImage): Image {
  return fromJson(ImageSchema, imageJson(image));
}

export function toGenerateResponse(result: GenerateAndStoreResult): GenerateResponse {
  return fromJson(
    GenerateResponseSchema,
    clean({
      images: result.images.map(imageJson),
      report: reportJson(result.report),
      model: result.model,
      route: result.route,
      costEstimateUsd: result.costEstimateUsd ?? undefined,
      notes: result.notes,
      replayed: result.replayed,
      ...('gate' in result &&
        result.gate !== undefined && { gate: gateResultJson(result.gate as GateSummary) }),
    }),
  );
}

/** Report lines as proto JSON (requested/sent are google.protobuf.Value: any JSON). */
export function reportJson(report: unknown): JsonValue[] {
  if (!Array.isArray(report)) return [];
  return report.map((line: Record<string, unknown>) =>
    clean({
      param: line.param,
      status: line.status,
      requested: line.requested,
      sent: line.sent,
      note: line.note ?? '',
    }),
  );
}

/**
 * The wire request → the unified request's input. Unset optional fields stay absent so the protocol's
 * defaults and validation apply exactly as on every other surface.
 */
export function fromWireRequest(req: WireGenerateRequest): Record<string, unknown> {
  // With an application, an empty prompt means "render the application's template".
  const out: Record<string, unknown> =
    req.app !== undefined && req.prompt === '' ? {} : { prompt: req.prompt };
  if (req.model !== '') out.model = req.model;
  if (req.app !== undefined) out.app = req.app;
  if (Object.keys(req.vars).length > 0) out.vars = { ...req.vars };
  if (req.appLabel !== undefined) out.appLabel = req.appLabel;
  if (req.appVersion !== undefined) out.appVersion = req.appVersion;
  const optional = [
    'negativePrompt',
    'width',
    'height',
    'aspectRatio',
    'fit',
    'cfgScale',
    'style',
    'quality',
    'steps',
    'seed',
    'n',
    'format',
    'background',
    'onUnsupported',
  ] as const;
  for (const name of optional) {
    if (req[name] !== undefined) out[name] = req[name];
  }
  if (req.providerOptions !== undefined) out.providerOptions = req.providerOptions;
  if (req.gate !== undefined) out.gate = gateOptionsFromWire(req.gate);
  return out;
}

function asObject(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

/** Drops undefined members (JSON has no undefined; fromJson would reject it). */
function clean(value: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = v as JsonValue;
  return out;
}
