import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { decodeCursor } from '../catalog/cursor.ts';
import { IMAGE_STATUSES, type ImageStatus, MAX_LIST_LIMIT } from '../catalog/images.ts';
import type { GenerateRequest as WireGenerateRequest } from '../gen/pixel/v1/common_pb.ts';
import {
  DeleteImageResponseSchema,
  type GenerateEvent,
  GenerateEventSchema,
  GenerateProgressSchema,
  type ImageService as ImageServiceDesc,
  ListImagesResponseSchema,
} from '../gen/pixel/v1/images_pb.ts';
import { invalidArgument } from '../protocol/errors.ts';
import { callerOf } from './auth.ts';
import { fromWireRequest, toGenerateResponse, toImage } from './convert.ts';
import type { GenerateAndStoreResult, ImageService, ServiceProgress } from './image-service.ts';
import { OBSERVATION_KEY } from './rpc-observe.ts';

const DEFAULT_PAGE_SIZE = 50;
/** Progress events a slow stream reader may fall behind by before older `generating` ticks are dropped. */
const MAX_QUEUED_EVENTS = 256;

function observe(
  ctx: HandlerContext,
  result: GenerateAndStoreResult | undefined,
  model: string | undefined,
): void {
  const seen = ctx.values.get(OBSERVATION_KEY);
  if (!seen) return;
  seen.model = result?.route ?? model;
  seen.provider = result?.images[0]?.provider;
}

/** ImageService over Connect / gRPC / gRPC-Web: wire shapes in and out, the use cases in ImageService. */
export function imageServiceImpl(service: ImageService): ServiceImpl<typeof ImageServiceDesc> {
  return {
    async generate(req, ctx) {
      const caller = callerOf(ctx.values);
      observe(ctx, undefined, req.model || undefined);
      const asked = partialImagesOf(req);
      const result = await service.generateAndStore(fromWireRequest(req), caller, {
        idempotencyKey: req.idempotencyKey,
        signal: ctx.signal,
        ...(asked > 0 && {
          report: [
            {
              param: 'partial_images',
              status: 'dropped',
              requested: asked,
              note: 'partial images are sent only by GenerateStream',
            },
          ],
        }),
      });
      observe(ctx, result, req.model || undefined);
      return toGenerateResponse(result);
    },

    async *generateStream(req, ctx) {
      const caller = callerOf(ctx.values);
      observe(ctx, undefined, req.model || undefined);
      yield* streamGeneration(service, req, caller, ctx);
    },

    async getImage(req, ctx) {
      return toImage(await service.get(req.id, callerOf(ctx.values)));
    },

    async listImages(req, ctx) {
      const pageSize = req.pageSize === 0 ? DEFAULT_PAGE_SIZE : req.pageSize;
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_LIST_LIMIT) {
        throw invalidArgument(
          'page_size',
          `must be from 1 to ${MAX_LIST_LIMIT} (0 means ${DEFAULT_PAGE_SIZE})`,
        );
      }
      if (req.status !== undefined && !IMAGE_STATUSES.includes(req.status as ImageStatus)) {
        throw invalidArgument('status', `must be one of ${IMAGE_STATUSES.join(', ')}`);
      }
      if (req.promptContains !== undefined && req.promptContains.length > 500) {
        throw invalidArgument('prompt_contains', 'must be at most 500 characters');
      }
      // Checked here so the error names the wire field.
      if (req.pageToken !== '') decodeCursor(req.pageToken, 'page_token');
      const result = await service.list(
        {
          limit: pageSize,
          ...(req.pageToken !== '' && { cursor: req.pageToken }),
          ...(req.application !== undefined && { application: req.application }),
          ...(req.model !== undefined && { model: req.model }),
          ...(req.team !== undefined && { team: req.team }),
          ...(req.status !== undefined && { status: req.status as ImageStatus }),
          ...(req.createdAfter !== undefined && { createdAfter: timestampDate(req.createdAfter) }),
          ...(req.createdBefore !== undefined && { createdBefore: timestampDate(req.createdBefore) }),
          ...(req.promptContains !== undefined && { promptContains: req.promptContains }),
          ...(req.accepted !== undefined && { accepted: req.accepted }),
          ...(req.parentId !== undefined && { parentId: req.parentId }),
        },
        callerOf(ctx.values),
      );
      return create(ListImagesResponseSchema, {
        images: result.images.map(toImage),
        nextPageToken: result.nextCursor ?? '',
      });
    },

    async acceptImage(req, ctx) {
      return toImage(await service.accept(req.id, callerOf(ctx.values)));
    },

    async deleteImage(req, ctx) {
      const deleted = await service.delete(req.id, callerOf(ctx.values));
      return create(DeleteImageResponseSchema, { id: req.id, deleted });
    },
  };
}

/**
 * Runs the generation in the background and yields its progress events in order as they happen, then the
 * result. The queue is bounded: when the reader is slow, intermediate `generating` ticks are dropped first
 * (the stage changes are always kept).
 */
async function* streamGeneration(
  service: ImageService,
  req: WireGenerateRequest,
  caller: ReturnType<typeof callerOf>,
  ctx: HandlerContext,
): AsyncGenerator<GenerateEvent> {
  const queue: GenerateEvent[] = [];
  let wake: (() => void) | undefined;
  let settled = false;
  let failure: unknown;
  const push = (event: GenerateEvent) => {
    if (queue.length >= MAX_QUEUED_EVENTS) {
      // A tick that carries a partial image is kept: it is content, not a heartbeat.
      const tick = queue.findIndex(
        (e) =>
          e.event.case === 'progress' &&
          e.event.value.stage === 'generating' &&
          e.event.value.partialImage === undefined,
      );
      if (tick >= 0) queue.splice(tick, 1);
    }
    queue.push(event);
    wake?.();
  };
  const plan = service.partialPlan(partialImagesOf(req), req.model || undefined);
  // A provider call retried after a failure mid-stream starts its partials again: indices only go up.
  let lastPartial = -1;
  const running = service
    .generateAndStore(fromWireRequest(req), caller, {
      idempotencyKey: req.idempotencyKey,
      signal: ctx.signal,
      ...(plan && { report: [plan.line] }),
      ...(plan?.count && { partialImages: plan.count }),
      onProgress: (event) => {
        const partial = event.stage === 'generating' ? event.provider?.partial : undefined;
        if (partial) {
          if (partial.index <= lastPartial) return;
          lastPartial = partial.index;
        }
        push(
          create(GenerateEventSchema, {
            event: { case: 'progress', value: create(GenerateProgressSchema, progressOf(event)) },
          }),
        );
      },
    })
    .then(
      (result) => {
        const seen = ctx.values.get(OBSERVATION_KEY);
        if (seen) {
          seen.model = result.route;
          seen.provider = result.images[0]?.provider;
        }
        push(create(GenerateEventSchema, { event: { case: 'result', value: toGenerateResponse(result) } }));
      },
      (error: unknown) => {
        failure = error;
      },
    )
    .finally(() => {
      settled = true;
      wake?.();
    });
  // Bounded: each pass either yields an event or waits for the next push / settlement.
  while (true) {
    const next = queue.shift();
    if (next) {
      yield next;
      continue;
    }
    if (settled) break;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = undefined;
  }
  await running;
  if (failure !== undefined) throw failure;
}

/** The request's partial_images, checked (0 when absent). */
function partialImagesOf(req: WireGenerateRequest): number {
  const asked = req.partialImages ?? 0;
  if (!Number.isInteger(asked) || asked < 0 || asked > 3) {
    throw invalidArgument('partial_images', `must be an integer from 0 to 3, got ${asked}`);
  }
  return asked;
}

function progressOf(event: ServiceProgress): MessageInitShape<typeof GenerateProgressSchema> {
  switch (event.stage) {
    case 'queued':
      return { stage: 'queued', message: 'accepted' };
    case 'translating':
      return { stage: 'translating', message: 'translating the request for the model' };
    case 'generating': {
      const provider = event.provider;
      const partial = provider?.partial;
      return {
        stage: 'generating',
        message: partial
          ? `partial image ${partial.index + 1} of the first image on ${event.route}`
          : `call ${event.call} of ${event.calls} on ${event.route}`,
        route: event.route,
        ...(provider?.fraction !== undefined && { fraction: provider.fraction }),
        ...(provider !== undefined && { providerStatus: provider.status }),
        ...(partial && {
          partialImage: {
            index: partial.index,
            data: partial.bytes,
            mediaType: partial.mediaType,
            width: partial.width,
            height: partial.height,
          },
        }),
      };
    }
    case 'post-processing':
      return {
        stage: 'post-processing',
        message: `image ${event.done} of ${event.total}`,
        fraction: event.done / Math.max(1, event.total),
      };
    case 'judging':
      return {
        stage: 'judging',
        message: `round ${event.round} of ${event.maxRounds}: judging ${event.questions} questions`,
      };
    case 'stored':
      return {
        stage: 'stored',
        message: `${event.count} image${event.count === 1 ? '' : 's'} stored`,
        fraction: 1,
      };
  }
}
