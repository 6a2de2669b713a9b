import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../catalog/db.ts';
import type { Catalog } from '../models/catalog.ts';
import { type ErrorCode, PixelError, toPixelError } from '../protocol/errors.ts';
import type { BlobStore } from '../storage/types.ts';
import { AUTH_HEADER, type Authenticator } from './auth.ts';
import { filesRoute } from './files-route.ts';
import type { Caller, ImageService } from './image-service.ts';
import type { Observation, ServerMetrics, Surface } from './metrics.ts';
import { mapOpenAIRequest, openAIB64Body, openAIResponse } from './openai-compat.ts';
import { openAIErrorBody } from './wire-errors.ts';

export interface HttpRouteDeps {
  images: ImageService;
  auth: Authenticator;
  catalog: Catalog;
  db: Db;
  store: BlobStore;
  metrics: ServerMetrics;
  /** True once shutdown began: /readyz answers 503 so load balancers stop sending traffic. */
  draining: () => boolean;
}

/** Per-request facts the hooks share (a WeakMap rather than decorating Fastify's request type). */
interface RequestState {
  started: number;
  caller?: Caller;
  code?: ErrorCode;
  seen: Observation;
}
const state = new WeakMap<FastifyRequest, RequestState>();
const stateOf = (request: FastifyRequest): RequestState => {
  let s = state.get(request);
  if (!s) {
    s = { started: performance.now(), seen: {} };
    state.set(request, s);
  }
  return s;
};

/** A blob key no store holds, to ask the store whether it answers at all. */
const PROBE_KEY = `images/00/00/${'0'.repeat(64)}.png`;

function surfaceOf(url: string | undefined): Surface | undefined {
  if (url === undefined) return 'http';
  if (url.startsWith('/pixel.v1.')) return undefined; // Connect routes: measured by their interceptor
  if (url.startsWith('/v1/')) return 'openai';
  if (url.startsWith('/files/')) return 'files';
  return 'http';
}

/** Fastify's own errors (bad JSON, body too large, wrong content type) in Pixel's terms. */
function fromFastifyError(error: FastifyError): PixelError {
  if (PixelError.isInstance(error)) return error;
  const status = error.statusCode ?? 500;
  if (
    error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    error instanceof SyntaxError
  ) {
    return new PixelError({
      code: 'invalid_argument',
      field: '(body)',
      reason: 'malformed_json',
      message: 'the request body is not valid JSON',
    });
  }
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new PixelError({
      code: 'invalid_argument',
      field: '(body)',
      reason: 'body_too_large',
      message: 'the request body is too large',
    });
  }
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new PixelError({
      code: 'invalid_argument',
      field: 'content-type',
      reason: 'media_type',
      message: 'send the body as application/json',
    });
  }
  if (status >= 400 && status < 500) {
    return new PixelError({ code: 'invalid_argument', field: '(request)', message: error.message });
  }
  return toPixelError(error);
}

export function registerHttpRoutes(app: FastifyInstance, deps: HttpRouteDeps): void {
  app.addHook('onRequest', async (request, reply) => {
    stateOf(request);
    reply.header('x-request-id', request.id);
  });

  app.addHook('onResponse', async (request, reply) => {
    const s = stateOf(request);
    const surface = surfaceOf(request.routeOptions.url);
    if (surface === undefined) return;
    const ms = performance.now() - s.started;
    const outcome =
      reply.statusCode < 400 ? 'ok' : (s.code ?? (reply.statusCode === 404 ? 'not_found' : 'unknown'));
    deps.metrics.request(
      surface,
      `${request.method} ${request.routeOptions.url ?? '(unmatched)'}`,
      outcome,
      ms / 1000,
      s.seen,
    );
    request.log.info(
      {
        method: request.method,
        url: request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(ms),
        team: s.caller?.team,
      },
      'request',
    );
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const pixel = fromFastifyError(error);
    // Fastify reports its own errors with the status it chose (413, 415…); keep that status.
    const status =
      !PixelError.isInstance(error) && error.statusCode && error.statusCode < 500
        ? error.statusCode
        : pixel.httpStatus;
    stateOf(request).code = pixel.code;
    if (status >= 500) request.log.error({ reqId: request.id, err: error }, 'request failed');
    if (pixel.retryAfterMs !== undefined)
      reply.header('retry-after', String(Math.ceil(pixel.retryAfterMs / 1000)));
    if (request.url.startsWith('/v1/')) {
      const { body } = openAIErrorBody(pixel);
      return reply.status(status).send(body);
    }
    const internal = pixel.code === 'internal' || pixel.code === 'unknown';
    return reply.status(status).send({
      error: internal ? { code: pixel.code, message: 'internal error (see the server log)' } : pixel.toJSON(),
    });
  });

  app.setNotFoundHandler((request, reply) => {
    stateOf(request).code = 'not_found';
    const error = new PixelError({
      code: 'not_found',
      message: `no route for ${request.method} ${request.url.split('?')[0]}`,
    });
    return reply
      .status(404)
      .send(request.url.startsWith('/v1/') ? openAIErrorBody(error).body : { error: error.toJSON() });
  });

  const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
    const s = stateOf(request);
    const outcome = await deps.auth.authenticate({
      authorization: request.headers.authorization,
      peer: request.socket.remoteAddress,
      headers: request.headers,
    });
    if (outcome.notice) reply.header(AUTH_HEADER, outcome.notice);
    s.caller = outcome.caller;
    return s.caller;
  };

  app.post('/v1/images/generations', async (request, reply) => {
    const caller = await authenticate(request, reply);
    const { input, responseFormat } = mapOpenAIRequest(request.body, deps.catalog);
    const seen = stateOf(request).seen;
    if (typeof input.model === 'string') seen.model = input.model;
    const key = request.headers['idempotency-key'];
    const controller = new AbortController();
    // The client hanging up cancels the provider calls it was waiting for.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) controller.abort();
    });
    const result = await deps.images.generateAndStore(input, caller, {
      ...(typeof key === 'string' && { idempotencyKey: key }),
      signal: controller.signal,
    });
    seen.model = result.route;
    seen.provider = result.images[0]?.provider;
    if (result.replayed) reply.header('idempotent-replayed', 'true');
    if (responseFormat === 'url') {
      return reply.send(
        openAIResponse(
          result,
          result.images.map((image) => ({ url: image.url })),
        ),
      );
    }
    // The bytes just stored are still in memory; only a replay reads them back from the store.
    const blobs = await Promise.all(
      result.images.map(async (image, i) => {
        const held = result.bytes?.[i];
        if (held) return held;
        const blob = await deps.store.get(image.blobKey);
        if (!blob)
          throw new PixelError({
            code: 'data_loss',
            field: 'response_format',
            message: `the blob of ${image.id} is missing; ask for response_format "url" or generate again`,
          });
        return blob.bytes;
      }),
    );
    return reply.header('content-type', 'application/json; charset=utf-8').send(openAIB64Body(result, blobs));
  });

  app.get('/v1/models', async (request, reply) => {
    await authenticate(request, reply);
    const models = deps.catalog.list().filter((m) => m.status.state !== 'retired');
    const data = [
      ...models.map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: m.provider })),
      ...deps.catalog.aliases().map((a) => ({ id: a.alias, object: 'model', created: 0, owned_by: 'pixel' })),
    ];
    return { object: 'list', data };
  });

  app.get('/files/*', filesRoute(deps));

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    if (deps.draining()) return reply.status(503).send({ status: 'shutting down' });
    const checks: Record<string, string> = {};
    const check = async (name: string, probe: () => Promise<unknown>) => {
      try {
        await probe();
        checks[name] = 'ok';
      } catch (error) {
        checks[name] = toPixelError(error).message;
      }
    };
    await Promise.all([
      check('database', () => deps.db.query('SELECT 1')),
      check('store', () => deps.store.exists(PROBE_KEY)),
    ]);
    const ready = Object.values(checks).every((v) => v === 'ok');
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });

  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await deps.metrics.render();
    return reply.header('content-type', contentType).send(body);
  });
}
