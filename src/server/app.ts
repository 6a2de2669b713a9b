import { join } from 'node:path';
import { type ConnectRouter, createContextValues, type Interceptor } from '@connectrpc/connect';
import { fastifyConnectPlugin } from '@connectrpc/connect-fastify';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import type { FastifyInstance } from 'fastify';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Applications } from '../apps/service.ts';
import { ApiKeyRepo } from '../catalog/api-keys.ts';
import { advertiseServer } from '../catalog/data-lock.ts';
import type { Db } from '../catalog/db.ts';
import type { SweepResult } from '../catalog/sweeper.ts';
import { ApplicationService as ApplicationServiceDesc } from '../gen/pixel/v1/apps_pb.ts';
import { ImageService as ImageServiceDesc } from '../gen/pixel/v1/images_pb.ts';
import { ModelService as ModelServiceDesc } from '../gen/pixel/v1/models_pb.ts';
import { ReviewService as ReviewServiceDesc } from '../gen/pixel/v1/review_pb.ts';
import { createBudgetCheck, withTeamBudget } from '../jobs/budget-gate.ts';
import type { Catalog } from '../models/catalog.ts';
import type { ProviderName } from '../models/schema.ts';
import { composePlatform, type Platform } from '../platform/compose.ts';
import { redactSecrets } from '../protocol/errors.ts';
import { redactRegistered } from '../protocol/secrets.ts';
import type { Clock } from '../providers/reliability/clock.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import { reviewServiceImpl } from '../quality/review/rpc.ts';
import { ReviewService } from '../quality/review/service.ts';
import type { BlobStore } from '../storage/types.ts';
import { createAccess, requestGateFor } from './access.ts';
import { type Authenticator, authInterceptor, callerOf, PEER_KEY } from './auth.ts';
import { startBackgroundTasks } from './background.ts';
import type { ServerConfig } from './config.ts';
import { registerConnectJsonCheck } from './connect-json-check.ts';
import { resetUnreadStreams, unimplementedFallback } from './grpc-h2.ts';
import { registerGrpcTooling } from './grpc-reflection-routes.ts';
import { registerHttpRoutes } from './http-routes.ts';
import type { ImageService } from './image-service.ts';
import { ServerMetrics } from './metrics.ts';
import { applicationServiceImpl } from './rpc-apps.ts';
import { type BatchRpc, startBatchRpc } from './rpc-batches.ts';
import { startFinetuneRpc } from './rpc-finetunes.ts';
import { imageServiceImpl } from './rpc-images.ts';
import { modelServiceImpl } from './rpc-models.ts';
import { observeInterceptor, REQUEST_ID_KEY } from './rpc-observe.ts';
import { withGenerationLimit } from './team-limits.ts';
import { textGuardInterceptor } from './text-guard.ts';
import { MAX_BODY_BYTES, openTransport } from './transport.ts';
import { registerWebUi } from './web-ui.ts';

/** What extensions (applications, review, UI…) get to build their own routes on the same server. */
export interface ServerContext {
  config: ServerConfig;
  db: Db;
  store: BlobStore;
  catalog: Catalog;
  images: ImageService;
  auth: Authenticator;
  adapter: (provider: ProviderName) => ProviderAdapter | undefined;
  applications: Applications;
  /** Everything composed for this process (the same object the CLI and workers build). */
  platform: Platform;
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
  /** Time for the per-team limits and anonymous access (tests inject a manual clock). */
  clock?: Pick<Clock, 'now'>;
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
      // Every configured secret, by value, out of every line (whatever field or format carries it).
      hooks: { streamWrite: redactRegistered },
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

/**
 * Starts Pixel's service: the platform (catalogue, blob store, models, applications, use cases) from the
 * composition root, one port for Connect (JSON, binary, gRPC-Web) and REST over HTTP/1.1 and gRPC over
 * HTTP/2 cleartext, and the background tasks (the orphan sweeper).
 */
export async function startServer(config: ServerConfig, deps: ServerDeps = {}): Promise<RunningServer> {
  const env = deps.env ?? process.env;
  const log = createLogger(config.logLevel, deps.logStream);
  const notice = deps.notice ?? ((line: string) => process.stderr.write(`${line}\n`));
  const gate = requestGateFor(config);
  const transport = await openTransport(config, log, gate);
  const { fastify, url } = transport;

  let platform: Platform | undefined;
  let batchRpc: BatchRpc | undefined;
  let stopFinetunes = () => {};
  try {
    let metrics: ServerMetrics | undefined;
    platform = await composePlatform(
      config,
      { env, ...pick(deps, 'catalog', 'adapters', 'db', 'store') },
      {
        thread: true,
        fallbackUrl: url,
        observe: (event) => {
          if (event.outcome === 'ok') metrics?.stored(event.provider, event.model, event.bytes ?? 0);
        },
      },
    );
    const { db, store, catalog, applications, adapters } = platform;
    metrics = new ServerMetrics(catalog);
    for (const error of platform.synced.errors)
      log.error({ err: error.toJSON() }, 'application profile not loaded');

    const keys = new ApiKeyRepo(db, { verifyCacheMs: config.keyCacheMs });
    const bootstrap = await keys.ensureBootstrapAdmin(config.adminKey);
    if (bootstrap?.key) {
      notice(
        `pixel: created the first admin API key (team "admin"); it is shown only this once, store it now: ${bootstrap.key}`,
      );
    }
    if (bootstrap?.revoked) log.warn('PIXEL_ADMIN_KEY names a revoked key; it stays revoked');
    const access = createAccess(config, { db, keys, metrics, ...pick(deps, 'clock') });
    const { auth } = access;
    const images = withTeamBudget(
      withGenerationLimit(platform.images, access.limiter),
      createBudgetCheck(db),
    );
    // Batches: an in-process worker in the embedded profile; `pixel worker` processes otherwise.
    const batches = startBatchRpc(platform, { worker: db.kind === 'pglite' });
    batchRpc = batches;
    // Fine-tune jobs: steps on the job system's queue, run by its worker (as batch cells are).
    const finetunes = startFinetuneRpc(platform, batches.jobs);
    stopFinetunes = () => finetunes.stop();
    const ctx: ServerContext = {
      config,
      db,
      store,
      catalog,
      images,
      auth,
      adapter: platform.adapter,
      applications,
      platform,
      log,
    };

    const interceptors: Interceptor[] = [
      observeInterceptor(metrics, log),
      authInterceptor(auth),
      textGuardInterceptor(),
    ];
    const routes = (router: ConnectRouter) => {
      router.service(ImageServiceDesc, imageServiceImpl(images));
      router.service(
        ModelServiceDesc,
        modelServiceImpl({
          catalog,
          defaultModel: platform!.defaultModel,
          configured: (p) => adapters.has(p),
        }),
      );
      router.service(
        ApplicationServiceDesc,
        applicationServiceImpl({ applications, caller: (c) => callerOf(c.values) }),
      );
      batches.register(router, (c) => callerOf(c.values));
      finetunes.register(router, (c) => callerOf(c.values));
      router.service(
        ReviewServiceDesc,
        reviewServiceImpl({
          reviews: new ReviewService(db),
          db,
          resolve: applications.resolver(),
          caller: (c) => callerOf(c.values),
        }),
      );
      deps.routes?.(router, ctx);
      // Last: reflection describes every service registered above.
      registerGrpcTooling(router, {
        interceptors: [observeInterceptor(metrics, log)],
        serving: async () =>
          !transport.draining() &&
          (await db.query('SELECT 1').then(
            () => true,
            () => false,
          )),
      });
    };
    let connectRouter: ConnectRouter | undefined;
    registerConnectJsonCheck(fastify, () => connectRouter, MAX_BODY_BYTES);
    await fastify.register(fastifyConnectPlugin, {
      routes: (router) => {
        routes(router);
        connectRouter = router;
      },
      interceptors,
      readMaxBytes: MAX_BODY_BYTES,
      contextValues: (req) =>
        createContextValues().set(REQUEST_ID_KEY, String(req.id)).set(PEER_KEY, req.socket.remoteAddress),
    });
    registerHttpRoutes(fastify, {
      images,
      auth,
      catalog,
      db,
      store,
      metrics,
      draining: transport.draining,
      defaultModel: platform.defaultModel,
      configured: (p) => adapters.has(p),
    });
    registerWebUi(fastify, { auth });
    await deps.http?.(fastify, ctx);
    await fastify.ready();
    transport.setHttp2Handler(
      resetUnreadStreams(
        connectNodeAdapter({
          routes,
          interceptors,
          readMaxBytes: MAX_BODY_BYTES,
          contextValues: (req) => createContextValues().set(PEER_KEY, req.socket.remoteAddress),
          // Unknown gRPC methods: UNIMPLEMENTED instead of an HTTP 404.
          fallback: unimplementedFallback as Parameters<typeof connectNodeAdapter>[0]['fallback'],
        }),
      ),
    );

    const background = startBackgroundTasks({
      db,
      store,
      log,
      sweepIntervalMs: config.sweepIntervalMs,
      sweepGraceMs: config.sweepGraceMs,
    });

    transport.markReady();
    // A CLI finding the embedded folder taken reads this URL from the lock and sends its request here.
    if (!deps.db && db.kind === 'pglite') advertiseServer(join(config.dataDir, 'pglite'), url);
    log.info(
      {
        url,
        grpc: 'same port (HTTP/2 cleartext)',
        database: db.kind,
        store: store.kind,
        auth: await access.describe(),
        hosts: gate.hosts.describe(),
      },
      'pixel listening',
    );

    let closing: Promise<void> | undefined;
    const owned = platform;
    const close = () => {
      closing ??= (async () => {
        background.stop();
        stopFinetunes();
        access.close();
        await transport.close();
        await batches.stop().catch((error: unknown) => log.error({ err: error }, 'batch stop failed'));
        await owned.close().catch((error: unknown) => log.error({ err: error }, 'close failed'));
        log.info('pixel stopped');
      })();
      return closing;
    };
    return { url, port: transport.port, metrics, sweep: background.sweep, close };
  } catch (error) {
    transport.markFailed(error);
    await transport.abort();
    stopFinetunes();
    await batchRpc?.stop().catch(() => {});
    await platform?.close().catch(() => {});
    throw error;
  }
}

function pick<T extends object, K extends keyof T>(source: T, ...keys: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}
