import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../catalog/db.ts';
import type { Catalog } from '../models/catalog.ts';
import type { ProviderName } from '../models/schema.ts';
import { type ErrorCode, PixelError, toPixelError } from '../protocol/errors.ts';
import type { BlobStore } from '../storage/types.ts';
import { AUTH_HEADER, type Authenticator } from './auth.ts';
import { filesRoute } from './files-route.ts';
import type { Caller, ImageService } from './image-service.ts';
import type { Observation, ServerMetrics, Surface } from './metrics.ts';
import { registerOpenAIRoutes, uploadLimitError } from './openai-routes.ts';
import { openAIErrorBody } from './wire-errors.ts';

export interface HttpRouteDeps {
  images: ImageService;
  auth: Authenticator;
  catalog: Catalog;
  db: Db;
  store: BlobStore;
  metrics: ServerMetrics;
  /** The model of a request that names none. */
  defaultModel: string;
  /** Whether this server has credentials for a provider (its models can run here). */
  configured: (provider: ProviderName) => boolean;
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
  const upload = uploadLimitError(error.code);
  if (upload) return upload;
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

  registerOpenAIRoutes(app, {
    ...deps,
    authenticate,
    seen: (request) => stateOf(request).seen,
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
