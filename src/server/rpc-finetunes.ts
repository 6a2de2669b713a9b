import { create, type JsonObject } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { ConnectRouter, HandlerContext, ServiceImpl } from '@connectrpc/connect';
import type { FinetuneDataset as DatasetRecord } from '../finetune/datasets.ts';
import { type Finetune as FinetuneRecord, finetuneModelId } from '../finetune/types.ts';
import {
  FinetuneDatasetSchema,
  FinetuneSchema,
  FinetuneService as FinetuneServiceDesc,
  ListFinetuneDatasetsResponseSchema,
  ListFinetunesResponseSchema,
} from '../gen/pixel/v1/finetunes_pb.ts';
import type { Platform } from '../platform/compose.ts';
import { invalidArgument } from '../protocol/errors.ts';
import { type Caller, requireRole } from './image-service.ts';

/** At most this many uploaded bytes in one CreateDataset (30 images of a few MB). */
const MAX_UPLOAD_BYTES = 200 * 1024 * 1024;

export { FinetuneServiceDesc };

export interface FinetuneRpc {
  register(router: ConnectRouter, caller: (ctx: HandlerContext) => Caller): void;
  stop(): void;
}

/**
 * The fine-tunes of a server: jobs run on the job system's queue (`jobs()` starts it: at once when an
 * unfinished job is waiting, else on the first StartFinetune), and the registry is reloaded every
 * `registryEveryMs` (default 5 s), so a promotion or a training finished in another process (the CLI, a
 * `pixel worker`) is served here.
 */
export function startFinetuneRpc(
  platform: Platform,
  jobs: () => Promise<unknown>,
  options: { registryEveryMs?: number } = {},
): FinetuneRpc {
  const { service, registry } = platform.finetunes;
  void service.repo
    .unfinished()
    .then((open) => {
      if (open.length > 0) void jobs().catch(() => {});
    })
    .catch(() => {});
  const timer = setInterval(
    () => void registry.refresh(service.repo).catch(() => {}),
    options.registryEveryMs ?? 5000,
  );
  timer.unref();
  return {
    register(router, caller) {
      router.service(FinetuneServiceDesc, finetuneServiceImpl({ platform, caller, jobs }));
    },
    stop() {
      clearInterval(timer);
    },
  };
}

/** `pixel.v1.FinetuneService` on a platform's fine-tunes. Teams see and change only their own jobs (admins all). */
export function finetuneServiceImpl(deps: {
  platform: Platform;
  caller: (ctx: HandlerContext) => Caller;
  /** Starts the job system (its queue), before a job is started. */
  jobs?: () => Promise<unknown>;
}): ServiceImpl<typeof FinetuneServiceDesc> {
  const { datasets, service } = deps.platform.finetunes;
  const scope = (caller: Caller) => (caller.role === 'admin' ? undefined : caller.team);
  return {
    async createDataset(req, ctx) {
      const caller = deps.caller(ctx);
      requireRole(caller, 'member');
      if (req.fromCatalogQuery !== undefined) {
        if (req.images.length > 0)
          throw invalidArgument('images', 'give images or from_catalog_query, not both');
        return toDataset(
          await datasets.createFromCatalog({
            team: caller.team,
            name: req.name,
            category: req.category,
            query: req.fromCatalogQuery,
            ...(req.application !== undefined && { application: req.application }),
            ...(req.captions !== undefined && { captions: req.captions }),
          }),
        );
      }
      const total = req.images.reduce((sum, image) => sum + image.content.byteLength, 0);
      if (total > MAX_UPLOAD_BYTES)
        throw invalidArgument('images', `uploads exceed ${MAX_UPLOAD_BYTES} bytes in all`);
      return toDataset(
        await datasets.createFromFiles({
          team: caller.team,
          name: req.name,
          category: req.category,
          source: 'upload',
          ...(req.captions !== undefined && { captions: req.captions }),
          files: req.images.map((image) => ({
            file: image.file || 'unnamed',
            bytes: image.content,
            ...(image.caption !== undefined && { caption: image.caption }),
          })),
        }),
      );
    },
    async listDatasets(_req, ctx) {
      const caller = deps.caller(ctx);
      requireRole(caller, 'viewer');
      return create(ListFinetuneDatasetsResponseSchema, {
        datasets: (await datasets.list(caller.team)).map(toDataset),
      });
    },
    async startFinetune(req, ctx) {
      const caller = deps.caller(ctx);
      requireRole(caller, 'member');
      await deps.jobs?.();
      return toFinetune(
        await service.start({
          team: caller.team,
          dataset: req.dataset,
          backend: req.backend,
          base: req.baseModel,
          trigger: req.trigger,
          ...(req.classNoun !== undefined && { classNoun: req.classNoun }),
          ...(req.name !== undefined && { name: req.name }),
          ...(req.steps !== undefined && { steps: req.steps }),
          ...(req.lora !== undefined && { lora: req.lora }),
        }),
      );
    },
    async getFinetune(req, ctx) {
      const caller = deps.caller(ctx);
      requireRole(caller, 'viewer');
      return toFinetune(await service.get(req.id, scope(caller)));
    },
    async listFinetunes(_req, ctx) {
      const caller = deps.caller(ctx);
      requireRole(caller, 'viewer');
      return create(ListFinetunesResponseSchema, {
        finetunes: (await service.list(scope(caller))).map(toFinetune),
      });
    },
    async cancelFinetune(req, ctx) {
      const caller = deps.caller(ctx);
      requireRole(caller, 'member');
      return toFinetune(await service.cancel(req.id, scope(caller)));
    },
    async promoteFinetune(req, ctx) {
      const caller = deps.caller(ctx);
      requireRole(caller, 'member');
      const team = scope(caller);
      return toFinetune(
        await service.promote(req.id, { force: req.force, ...(team !== undefined && { team }) }),
      );
    },
  };
}

function toDataset(d: DatasetRecord) {
  return create(FinetuneDatasetSchema, {
    id: d.id,
    team: d.team,
    name: d.name,
    category: d.category,
    source: d.source,
    images: d.images.map((i) => ({
      file: i.file,
      imageId: i.imageId,
      sha256: i.sha256,
      mediaType: i.mediaType,
      width: i.width,
      height: i.height,
      ...(i.caption !== undefined && { caption: i.caption }),
      ...(i.captionBy !== undefined && { captionBy: i.captionBy }),
    })),
    createdAt: timestampFromMs(d.createdMs),
  });
}

function toFinetune(job: FinetuneRecord) {
  return create(FinetuneSchema, {
    id: job.id,
    team: job.team,
    name: job.name,
    version: job.version,
    model: finetuneModelId(job.name, job.version),
    datasetId: job.datasetId,
    category: job.category,
    baseModel: job.baseModel,
    backend: job.backend,
    trigger: job.trigger,
    classNoun: job.classNoun,
    params: job.params as JsonObject,
    state: job.state,
    progress: job.progress,
    promoted: job.promoted,
    cancelRequested: job.cancelRequested,
    ...(job.error !== null && { error: job.error }),
    ...(job.weights && { weights: job.weights as unknown as JsonObject }),
    ...(job.evaluation && { evaluation: job.evaluation as unknown as JsonObject }),
    createdAt: timestampFromMs(job.createdMs),
    updatedAt: timestampFromMs(job.updatedMs),
  });
}
