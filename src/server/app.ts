import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import {
  createServer as createHttp2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { type ConnectRouter, createContextValues, type Interceptor } from '@connectrpc/connect';
import { fastifyConnectPlugin } from '@connectrpc/connect-fastify';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import pino, { type DestinationStream, type Logger } from 'pino';
import { Applications, applicationServiceImpl } from '../apps/index.ts';
import { ApiKeyRepo } from '../catalog/api-keys.ts';
import type { Db } from '../catalog/db.ts';
import { IdempotencyStore } from '../catalog/idempotency.ts';
import { ImageRepo } from '../catalog/images.ts';
import { type SweepResult, sweepOrphanBlobs } from '../catalog/sweeper.ts';
import { ApplicationService as ApplicationServiceDesc } from '../gen/pixel/v1/apps_pb.ts';
import { ImageService as ImageServiceDesc } from '../gen/pixel/v1/images_pb.ts';
import { ModelService as ModelServiceDesc } from '../gen/pixel/v1/models_pb.ts';
import { type Catalog, defaultCatalog, defaultModelId } from '../models/catalog.ts';
import type { ProviderName } from '../models/schema.ts';
import { redactSecrets } from '../protocol/errors.ts';
import { createAdapters } from '../providers/registry.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import type { BlobStore } from '../storage/types.ts';
import { type Authenticator, authInterceptor, callerOf, createAuthenticator, LOCAL_TEAM } from './auth.ts';
import { allowsAnonymous, type ServerConfig } from './config.ts';
import { registerHttpRoutes } from './http-routes.ts';
import { ImageService } from './image-service.ts';
import { listenSharedPort } from './listener.ts';
import { ServerMetrics } from './metrics.ts';
import { openServerDatabase, openServerStore } from './open.ts';
import { imageServiceImpl } from './rpc-images.ts';
import { modelServiceImpl } from './rpc-models.ts';
import { observeInterceptor, REQUEST_ID_KEY, requestIdFrom } from './rpc-observe.ts';

/** What extensions (applications, review, UI…) get to build their own routes on the same server. */
export interface ServerContext {
  config: ServerConfig;
  db: Db;
  store: BlobStore;
  catalog: Catalog;
  images: ImageService;
  auth: Authenticator;
  adapter: (provider: ProviderName) => ProviderAdapter | undefined;
  log: Logger;
}

export interface ServerDeps {
  /** Provider credentials and store settings (default process.env). */
  env?: NodeJS.ProcessEnv;
  catalog?: Catalog;
  /** Provider adapters; default `createAdapters(env)` (each wrapped in the reliability layer). */
  adapters?: ReadonlyMap<ProviderName, ProviderAdapter>;
  /** A database or store the caller owns (not closed by the server). */
  db?: Db;
  store?: BlobStore;
  /** Where JSON log lines go (default stdout). */
  logStream?: DestinationStream;
  /** One-line notices for the operator (the bootstrap key); default stderr. */
  notice?: (line: string) => void;
  /** More Connect services on the same router (both HTTP/1.1 and HTTP/2). */
  routes?: (router: ConnectRouter, ctx: ServerContext) => void;
  /** More HTTP routes (UI, REST) on the Fastify instance. */
  http?: (app: FastifyInstance, ctx: ServerContext) => void | Promise<void>;
}

export interface RunningServer {
  /** `http://host:port` this server listens on. */
  url: string;
  port: number;
  metrics: ServerMetrics;
  /** Runs the orphan sweeper now (the periodic one uses the same grace period). */
  sweep(options?: { graceMs?: number }): Promise<SweepResult>;
  /** Stops accepting, lets in-flight requests finish (bounded), then closes the database and the store. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

/** Pino with secrets kept out: auth headers and key fields are censored, error texts redacted. */
export function createLogger(level: ServerConfig['logLevel'], stream?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'pixel' },
      redact: {
        paths: [
          'req.headers.authorization',
          'headers.authorization',
          'authorization',
          'key',
          'apiKey',
          '*.apiKey',
          '*.key',
          'adminKey',
        ],
        censor: '[redacted]',
      },
      serializers: {
        err: (error: unknown) => {
          const e = error instanceof Error ? error : new Error(String(error));
          return { type: e.name, message: redactSecrets(e.message), stack: redactSecrets(e.stack ?? '') };
        },
      },
    },
    stream,
  );
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts Pixel's service: one port for Connect (JSON, binary, gRPC-Web) and REST over HTTP/1.1, and gRPC
 * over HTTP/2 cleartext; the catalogue (PGlite or PostgreSQL), the blob store, the periodic sweeper.
 */
export async function startServer(config: ServerConfig, deps: ServerDeps = {}): Promise<RunningServer> {
  const env = deps.env ?? process.env;
  const log = createLogger(config.logLevel, deps.logStream);
  const notice = deps.notice ?? ((line: string) => process.stderr.write(`${line}\n`));

  // Requests in flight over both servers; shutdown waits for zero.
  let inflight = 0;
  let draining = false;
  let drained: (() => void) | undefined;
  const socketsBusy = new Map<unknown, number>();
  const track =
    <Req extends IncomingMessage | Http2ServerRequest, Res extends ServerResponse | Http2ServerResponse>(
      handler: (req: Req, res: Res) => void,
    ) =>
    (req: Req, res: Res) => {
      inflight++;
      const socket = req.socket;
      socketsBusy.set(socket, (socketsBusy.get(socket) ?? 0) + 1);
      if (draining && 'shouldKeepAlive' in res) res.shouldKeepAlive = false;
      res.once('close', () => {
        inflight--;
        const busy = (socketsBusy.get(socket) ?? 1) - 1;
        if (busy === 0) socketsBusy.delete(socket);
        else socketsBusy.set(socket, busy);
        if (draining && inflight === 0) drained?.();
      });
      handler(req, res);
    };

  let http1!: HttpServer;
  // Typed as the default instance: extensions and route modules take a plain FastifyInstance.
  const fastify = Fastify({
    loggerInstance: log,
    // One line per request is written by our onResponse hook (with the outcome and team) instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_BODY_BYTES,
    genReqId: (req) => requestIdFrom(req.headers['x-request-id']),
    serverFactory: (handler) => {
      http1 = createHttpServer({ keepAliveTimeout: 5_000 }, track(handler));
      return http1;
    },
  }) as unknown as FastifyInstance;
  let h2Handler: ((req: Http2ServerRequest, res: Http2ServerResponse) => void) | undefined;
  const http2 = createHttp2Server(
    track((req: Http2ServerRequest, res: Http2ServerResponse) => {
      if (h2Handler) h2Handler(req, res);
      else res.writeHead(503).end();
    }),
  );

  let markReady!: () => void;
  let markFailed!: (error: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    markFailed = reject;
  });
  ready.catch(() => {});
  const listener = await listenSharedPort({ host: config.host, port: config.port, http1, http2, ready });
  const url = `http://${urlHost(config.host)}:${listener.port}`;

  const owned: Array<() => Promise<void>> = [];
  const closeOwned = async () => {
    for (const close of owned.reverse())
      await close().catch((error: unknown) => log.error({ err: error }, 'close failed'));
    owned.length = 0;
  };
  let sweepTimer: NodeJS.Timeout | undefined;
  try {
    const db = deps.db ?? (await openServerDatabase(config, { thread: true }));
    if (!deps.db) owned.push(() => db.close());
    const store = deps.store ?? openServerStore(config, env, url);
    if (!deps.store) owned.push(() => store.close());
    const catalog = deps.catalog ?? defaultCatalog();
    const adapters = deps.adapters ?? createAdapters(env);
    const adapter = (provider: ProviderName) => adapters.get(provider);
    const metrics = new ServerMetrics(catalog);
    const defaultModel = defaultModelId(env);
    const applications = new Applications({
      db,
      catalog,
      defaultModel,
      available: (id) => {
        const entry = catalog.get(id);
        return entry !== undefined && adapters.has(entry.provider);
      },
    });
    // Shipped profiles (apps/*.yaml) become versions now, not on the first request; a broken file is logged, the rest load.
    const synced = await applications.syncFileDefaults();
    for (const error of synced.errors) log.error({ err: error.toJSON() }, 'application profile not loaded');
    const images = new ImageService({
      db,
      store,
      catalog,
      adapter,
      applications: applications.resolver(),
      defaultModel,
      observe: (event) => {
        if (event.outcome === 'ok') metrics.stored(event.provider, event.model, event.bytes ?? 0);
      },
    });

    const keys = new ApiKeyRepo(db, { verifyCacheMs: config.keyCacheMs });
    const bootstrap = await keys.ensureBootstrapAdmin(config.adminKey);
    if (bootstrap?.key) {
      notice(
        `pixel: created the first admin API key (team "admin"); it is shown only this once, store it now: ${bootstrap.key}`,
      );
    }
    if (bootstrap?.revoked) log.warn('PIXEL_ADMIN_KEY names a revoked key; it stays revoked');
    const auth = createAuthenticator(keys, { anonymousAllowed: allowsAnonymous(config) });
    const ctx: ServerContext = { config, db, store, catalog, images, auth, adapter, log };

    const interceptors: Interceptor[] = [observeInterceptor(metrics, log), authInterceptor(auth)];
    const routes = (router: ConnectRouter) => {
      router.service(ImageServiceDesc, imageServiceImpl(images));
      router.service(
        ModelServiceDesc,
        modelServiceImpl({ catalog, defaultModel, configured: (p) => adapters.has(p) }),
      );
      router.service(
        ApplicationServiceDesc,
        applicationServiceImpl({ applications, caller: (c) => callerOf(c.values) }),
      );
      deps.routes?.(router, ctx);
    };
    await fastify.register(fastifyConnectPlugin, {
      routes,
      interceptors,
      readMaxBytes: MAX_BODY_BYTES,
      contextValues: (req) => createContextValues().set(REQUEST_ID_KEY, String(req.id)),
    });
    registerHttpRoutes(fastify, { images, auth, catalog, db, store, metrics, draining: () => draining });
    await deps.http?.(fastify, ctx);
    await fastify.ready();
    h2Handler = connectNodeAdapter({ routes, interceptors, readMaxBytes: MAX_BODY_BYTES });

    const sweep = async (options: { graceMs?: number } = {}) => {
      const result = await sweepOrphanBlobs({
        store,
        images: new ImageRepo(db),
        olderThanMs: options.graceMs ?? config.sweepGraceMs,
      });
      await new IdempotencyStore(db).purgeExpired();
      return result;
    };
    if (config.sweepIntervalMs > 0) {
      let sweeping = false;
      sweepTimer = setInterval(() => {
        if (sweeping) return;
        sweeping = true;
        sweep()
          .then(
            (r) =>
              r.deleted > 0 && log.info({ deleted: r.deleted, scanned: r.scanned }, 'swept orphan blobs'),
          )
          .catch((error: unknown) => log.error({ err: error }, 'orphan sweep failed'))
          .finally(() => {
            sweeping = false;
          });
      }, config.sweepIntervalMs);
      sweepTimer.unref();
    }

    markReady();
    log.info(
      {
        url,
        grpc: 'same port (HTTP/2 cleartext)',
        database: db.kind,
        store: store.kind,
        auth: auth.anonymousAllowed
          ? `no key needed: anonymous callers are admins of team "${LOCAL_TEAM}" (embedded profile on 127.0.0.1; set PIXEL_REQUIRE_KEYS=true to require keys)`
          : 'API keys required (Authorization: Bearer pxl_…)',
      },
      'pixel listening',
    );

    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        draining = true;
        if (sweepTimer) clearInterval(sweepTimer);
        const stopped = listener.stopAccepting();
        // Idle keep-alive connections go now; busy ones close after their response (keep-alive is off).
        for (const socket of listener.sockets) if (!socketsBusy.has(socket)) socket.destroy();
        for (const session of listener.sessions) session.close();
        if (inflight > 0) {
          await new Promise<void>((resolve) => {
            drained = resolve;
            setTimeout(resolve, config.shutdownTimeoutMs).unref();
          });
        }
        for (const socket of listener.sockets) socket.destroy();
        for (const session of listener.sessions) session.destroy();
        await fastify.close();
        await stopped;
        await closeOwned();
        log.info('pixel stopped');
      })();
      return closing;
    };
    return { url, port: listener.port, metrics, sweep, close };
  } catch (error) {
    markFailed(error);
    if (sweepTimer) clearInterval(sweepTimer);
    for (const socket of listener.sockets) socket.destroy();
    await listener.stopAccepting();
    await fastify.close().catch(() => {});
    await closeOwned();
    throw error;
  }
}
