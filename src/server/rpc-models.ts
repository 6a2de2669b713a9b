import { fromJson, type JsonObject } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  ListModelsResponseSchema,
  ModelSchema,
  type ModelService as ModelServiceDesc,
  TranslatePreviewResponseSchema,
} from '../gen/pixel/v1/models_pb.ts';
import type { Catalog } from '../models/catalog.ts';
import type { ModelEntry, ProviderName } from '../models/schema.ts';
import { PixelError } from '../protocol/errors.ts';
import { translate } from '../translate/translate.ts';
import { callerOf } from './auth.ts';
import { fromWireRequest, reportJson } from './convert.ts';
import { requireRole } from './image-service.ts';

export interface ModelServiceDeps {
  catalog: Catalog;
  defaultModel: string;
  /** Whether the server has an adapter (credentials) for a provider. */
  configured: (provider: ProviderName) => boolean;
}

/** The catalogue entry as JSON for the wire: every capability, nothing dropped. */
export function modelJson(entry: ModelEntry, configured: boolean): JsonObject {
  const status = entry.status;
  const replacement = 'replacement' in status && status.replacement ? status.replacement : undefined;
  return {
    id: entry.id,
    provider: entry.provider,
    displayName: entry.displayName,
    status: status.state,
    ...(replacement !== undefined && { replacement }),
    capabilities: JSON.parse(JSON.stringify(entry)) as JsonObject,
    configured,
  };
}

export function modelServiceImpl(deps: ModelServiceDeps): ServiceImpl<typeof ModelServiceDesc> {
  return {
    async listModels(req, ctx) {
      requireRole(callerOf(ctx.values), 'viewer');
      const models = deps.catalog
        .list()
        .filter((m) => req.provider === undefined || m.provider === req.provider)
        .filter((m) => req.includeRetired || m.status.state !== 'retired');
      return fromJson(ListModelsResponseSchema, {
        models: models.map((m) => modelJson(m, deps.configured(m.provider))),
        aliases: deps.catalog.aliases().map((a) => ({ alias: a.alias, routes: a.routes })),
      });
    },

    async getModel(req, ctx) {
      requireRole(callerOf(ctx.values), 'viewer');
      const entry = deps.catalog.get(req.id);
      if (!entry) {
        // An alias answers with its first route; resolve() words the not-found (with suggestions).
        let resolved: ModelEntry | undefined;
        try {
          resolved = deps.catalog.resolve(req.id).routes[0];
        } catch (error) {
          if (!PixelError.isInstance(error)) throw error;
          throw new PixelError({
            code: error.code,
            reason: error.reason,
            field: 'id',
            message: error.message,
          });
        }
        if (!resolved)
          throw new PixelError({ code: 'not_found', field: 'id', message: `model ${req.id} not found` });
        return fromJson(ModelSchema, modelJson(resolved, deps.configured(resolved.provider)));
      }
      return fromJson(ModelSchema, modelJson(entry, deps.configured(entry.provider)));
    },

    async translatePreview(req, ctx) {
      requireRole(callerOf(ctx.values), 'viewer');
      const t = translate(fromWireRequest(req), { catalog: deps.catalog, defaultModel: deps.defaultModel });
      return fromJson(TranslatePreviewResponseSchema, {
        model: t.model.id,
        requestedModel: t.requestedModel,
        calls: t.calls.map((call) => ({
          count: call.count,
          ...(call.seed !== undefined && { seed: call.seed }),
          body: JSON.parse(JSON.stringify(call.body)) as JsonObject,
        })),
        report: reportJson(t.report),
        delivery: JSON.parse(JSON.stringify(t.delivery)) as JsonObject,
        ...(t.costEstimateUsd !== null && { costEstimateUsd: t.costEstimateUsd }),
      });
    },
  };
}
