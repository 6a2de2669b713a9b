import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../catalog/db.ts';
import type { InputImages } from '../generate/input-images.ts';
import type { Catalog } from '../models/catalog.ts';
import type { ProviderName } from '../models/schema.ts';
import { invalidArgument, PixelError } from '../protocol/errors.ts';
import type { BlobStore } from '../storage/types.ts';
import type { Caller, GenerateAndStoreResult, ImageService, ServiceProgress } from './image-service.ts';
import type { Observation } from './metrics.ts';
import {
  type MappedRequest,
  mapOpenAIRequest,
  openAIB64Body,
  openAIResponse,
  pixelHeaders,
} from './openai-compat.ts';
import { catalogueInputImages, inputImageOf } from './openai-edit-inputs.ts';
import { modelObject, modelObjects } from './openai-models.ts';
import { type StreamKind, streamImages } from './openai-stream.ts';
import { partialPlan } from './partial-plan.ts';

export interface OpenAIRouteDeps {
  images: ImageService;
  catalog: Catalog;
  db: Db;
  store: BlobStore;
  /** The model of a request that names none. */
  defaultModel: string;
  /** Whether this server has credentials for a provider (its models can run here). */
  configured: (provider: ProviderName) => boolean;
  authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<Caller>;
  /** Where a request's model and provider are noted for the metrics. */
  seen: (request: FastifyRequest) => Observation;
}

/** Upload limits of /v1/images/edits: OpenAI takes up to 16 images of up to 50 MB (Pixel: 25 MB each). */
const EDIT_LIMITS = { fileSize: 25 * 1024 * 1024, files: 17, fields: 64, parts: 96, fieldSize: 64 * 1024 };
/** The multipart parser's limit errors in Pixel's terms (their HTTP status, 413, is kept). */
export function uploadLimitError(code: string | undefined): PixelError | undefined {
  const limit = (field: string, message: string) =>
    new PixelError({ code: 'invalid_argument', field, reason: 'body_too_large', message });
  switch (code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return limit('image', `each uploaded file may be at most ${EDIT_LIMITS.fileSize / 1024 / 1024} MB`);
    case 'FST_FILES_LIMIT':
      return limit('image', `an edit takes at most ${EDIT_LIMITS.files} files (16 images and a mask)`);
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return limit('(body)', 'the form has too many fields');
    default:
      return undefined;
  }
}

/** Form fields that carry numbers, booleans or JSON (multipart sends every field as text). */
const NUMBER_FIELDS = new Set([
  'n',
  'partial_images',
  'output_compression',
  'width',
  'height',
  'cfgScale',
  'steps',
  'seed',
  'appVersion',
]);
const JSON_FIELDS = new Set(['providerOptions', 'vars']);

/**
 * OpenAI's Images API on this server: generations (JSON or Server-Sent Events), edits (multipart, one
 * or more images and an optional mask) and the model list, so OpenAI's SDKs and the AI SDK work unchanged.
 */
export function registerOpenAIRoutes(app: FastifyInstance, deps: OpenAIRouteDeps): void {
  /** Generates (an edit when `inputs` is given) and answers as JSON or as an event stream. */
  const answer = async (
    request: FastifyRequest,
    reply: FastifyReply,
    caller: Caller,
    mapped: MappedRequest,
    kind: StreamKind,
    edit?: { inputs: InputImages; imageIds: string[] },
  ) => {
    const { input, responseFormat } = mapped;
    const seen = deps.seen(request);
    if (typeof input.model === 'string') seen.model = input.model;
    const key = request.headers['idempotency-key'];
    const controller = new AbortController();
    // The client hanging up cancels the provider calls it was waiting for.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) controller.abort();
    });
    const dropped = [...mapped.dropped];
    const partials = mapped.stream
      ? partialPlan(
          mapped.partialImages,
          typeof input.model === 'string' ? input.model : deps.defaultModel,
          deps.catalog,
        )
      : undefined;
    if (partials) dropped.push(partials.line);
    const run = (onProgress?: (event: ServiceProgress) => void) =>
      deps.images.generateAndStore(input, caller, {
        ...(typeof key === 'string' && { idempotencyKey: key }),
        signal: controller.signal,
        ...(dropped.length > 0 && { report: dropped }),
        ...(edit && { edit }),
        ...(partials?.count && { partialImages: partials.count }),
        ...(onProgress && { onProgress }),
      });
    const note = (result: GenerateAndStoreResult) => {
      seen.model = result.route;
      seen.provider = result.images[0]?.provider;
      // A stream's headers went out before the result existed: its events carry the report instead.
      if (reply.sent || reply.raw.headersSent) return;
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      reply.headers(pixelHeaders(result));
    };
    const bytesOf = (result: GenerateAndStoreResult) => imageBytes(deps.store, result);
    if (mapped.stream) {
      return streamImages(
        reply,
        kind,
        async (onProgress) => {
          const result = await run(onProgress);
          note(result);
          return result;
        },
        bytesOf,
        { quality: input.quality as string | undefined, background: input.background as string | undefined },
      );
    }
    const result = await run();
    note(result);
    if (responseFormat === 'url') {
      return reply.send(
        openAIResponse(
          result,
          result.images.map((image) => ({ url: image.url })),
        ),
      );
    }
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .send(openAIB64Body(result, await bytesOf(result)));
  };

  app.post('/v1/images/generations', async (request, reply) => {
    const caller = await deps.authenticate(request, reply);
    return answer(request, reply, caller, mapOpenAIRequest(request.body, deps.catalog), 'image_generation');
  });

  // Multipart only here: its parser is registered for this route's scope, not the whole server.
  app.register(async (scope) => {
    await scope.register(multipart, { limits: EDIT_LIMITS });
    scope.post('/v1/images/edits', async (request, reply) => {
      const caller = await deps.authenticate(request, reply);
      if (!request.isMultipart()) {
        throw new PixelError({
          code: 'invalid_argument',
          field: 'content-type',
          reason: 'media_type',
          message: 'send the edit as multipart/form-data (image, prompt, …), like OpenAI’s /v1/images/edits',
        });
      }
      const fields: Record<string, unknown> = {};
      const images: ReturnType<typeof inputImageOf>[] = [];
      let mask: ReturnType<typeof inputImageOf> | undefined;
      for await (const part of request.parts()) {
        const name = part.fieldname.replace(/\[\]$/, '');
        if (part.type === 'file') {
          const bytes = new Uint8Array(await part.toBuffer());
          // The parser may flag a file cut at the size limit only after its last chunk: never read it as whole.
          if (part.file.truncated) throw new scope.multipartErrors.RequestFileTooLargeError();
          if (name === 'image') images.push(inputImageOf(bytes, `image[${images.length}]`));
          else if (name === 'mask') mask = inputImageOf(bytes, 'mask');
          else throw invalidArgument(name, `${name} is not a file field of an edit (image, mask)`);
        } else {
          fields[name] = formValue(name, String(part.value));
        }
      }
      if (images.length === 0) throw invalidArgument('image', 'an edit needs at least one image file');
      const mapped = mapOpenAIRequest(fields, deps.catalog);
      const inputs: InputImages = {
        images: images.map(({ bytes, mediaType }) => ({ bytes, mediaType })),
        ...(mask && { mask: { bytes: mask.bytes, mediaType: mask.mediaType } }),
      };
      const fidelity = fields.input_fidelity;
      if (fidelity !== undefined && routeProvider(mapped.input.model, deps) === 'openai') {
        // OpenAI's GPT image edits take it (its generations do not), so it rides with the edit's inputs.
        if (fidelity !== 'high' && fidelity !== 'low')
          throw invalidArgument('input_fidelity', 'must be "high" or "low"');
        inputs.fields = { input_fidelity: fidelity };
        mapped.dropped = mapped.dropped.map((line) =>
          line.param === 'input_fidelity'
            ? { param: 'input_fidelity', status: 'native', sent: fidelity, note: 'sent with the edit' }
            : line,
        );
      }
      // Checked before anything is stored: a model that takes no input image is refused naming it.
      checkModelTakesInputs(mapped.input.model, deps);
      const imageIds = await catalogueInputImages(deps, images, caller);
      return answer(request, reply, caller, mapped, 'image_edit', { inputs, imageIds });
    });
  });

  app.get('/v1/models', async (request, reply) => {
    await deps.authenticate(request, reply);
    return { object: 'list', data: modelObjects(deps.catalog, deps.configured) };
  });

  // Model ids contain slashes (`openai/gpt-image-1.5`): the rest of the path is the id.
  app.get('/v1/models/*', async (request: FastifyRequest<{ Params: { '*': string } }>, reply) => {
    await deps.authenticate(request, reply);
    // The router decodes the path already; an id never contains `%`, so anything left is refused as unknown.
    return modelObject(request.params['*'], deps.catalog, deps.configured);
  });
}

/** A text form field as the JSON body would carry it. */
function formValue(name: string, text: string): unknown {
  if (NUMBER_FIELDS.has(name)) {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n))
      throw invalidArgument(name, `${name} must be a number, got "${text}"`);
    return n;
  }
  if (JSON_FIELDS.has(name)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw invalidArgument(name, `${name} must be JSON in a form field`);
    }
  }
  if (name === 'stream') return text === 'true' ? true : text === 'false' ? false : text;
  return text;
}

/** The model of an edit (or the default model) must take input images; refused with its name otherwise. */
function checkModelTakesInputs(
  model: unknown,
  deps: Pick<OpenAIRouteDeps, 'catalog' | 'defaultModel'>,
): void {
  const name = typeof model === 'string' ? model : deps.defaultModel;
  const entry = deps.catalog.resolve(name).routes[0];
  if (!entry || entry.inputImages) return;
  throw new PixelError({
    code: 'invalid_argument',
    field: 'model',
    reason: 'unsupported_parameter',
    message: `${name} takes no input image, so it cannot edit; models that do: ${editModels(deps.catalog).join(', ')}`,
  });
}

/** The provider of the route a model name resolves to first. */
function routeProvider(
  model: unknown,
  deps: Pick<OpenAIRouteDeps, 'catalog' | 'defaultModel'>,
): string | undefined {
  return deps.catalog.resolve(typeof model === 'string' ? model : deps.defaultModel).routes[0]?.provider;
}

function editModels(catalog: Catalog): string[] {
  return catalog
    .list()
    .filter((m) => m.inputImages && m.status.state !== 'retired')
    .map((m) => m.id);
}

/** The stored bytes of each image: still in memory when just generated, read back on a replay. */
async function imageBytes(store: BlobStore, result: GenerateAndStoreResult): Promise<Uint8Array[]> {
  return Promise.all(
    result.images.map(async (image, i) => {
      const held = result.bytes?.[i];
      if (held) return held;
      const blob = await store.get(image.blobKey);
      if (!blob)
        throw new PixelError({
          code: 'data_loss',
          field: 'response_format',
          message: `the blob of ${image.id} is missing; ask for response_format "url" or generate again`,
        });
      return blob.bytes;
    }),
  );
}
