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
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { ServerConfig } from './config.ts';
import { refuseWhileDraining } from './drain.ts';
import { listenSharedPort } from './listener.ts';
import type { RequestGate } from './request-gate.ts';
import { requestIdFrom } from './rpc-observe.ts';
import { closeIfBodyUnread } from './unread-body.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

export type Http2Handler = (req: Http2ServerRequest, res: Http2ServerResponse) => void;

/**
 * The server's connections: Fastify on HTTP/1.1 and a bare HTTP/2 server (gRPC) on one port, requests in
 * flight counted over both, and draining at shutdown. Knows nothing of what the routes do.
 */
export interface Transport {
  fastify: FastifyInstance;
  /** `http://host:port` this server listens on. */
  url: string;
  port: number;
  /** Where HTTP/2 requests go once the routes are built (until then they get 503). */
  setHttp2Handler(handler: Http2Handler): void;
  /** True from the moment shutdown starts. */
  draining(): boolean;
  /** Connections accepted before the routes were built wait for one of these. */
  markReady(): void;
  markFailed(error: unknown): void;
  /** Stops accepting, lets in-flight requests finish (bounded by the shutdown timeout), closes Fastify. */
  close(): Promise<void>;
  /** Drops everything at once (a start that failed half-way). */
  abort(): Promise<void>;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function openTransport(
  config: Pick<ServerConfig, 'host' | 'port' | 'shutdownTimeoutMs'>,
  log: Logger,
  /** Checked before any routing on both servers (Host allowlist, CORS). */
  gate?: RequestGate,
): Promise<Transport> {
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
      if ('shouldKeepAlive' in res) closeIfBodyUnread(req as IncomingMessage, res);
      res.once('close', () => {
        inflight--;
        const busy = (socketsBusy.get(socket) ?? 1) - 1;
        if (busy === 0) socketsBusy.delete(socket);
        else socketsBusy.set(socket, busy);
        if (draining && inflight === 0) drained?.();
      });
      if (gate && !gate.admit(req, res)) return;
      if (draining && refuseWhileDraining(req, res)) return;
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
  let h2Handler: Http2Handler | undefined;
  const http2 = createHttp2Server(
    track((req: Http2ServerRequest, res: Http2ServerResponse) => {
      if (h2Handler) h2Handler(req, res);
      else res.writeHead(503).end();
    }),
  );

  const { promise: ready, resolve: markReady, reject: markFailed } = Promise.withResolvers<void>();
  ready.catch(() => {});
  const listener = await listenSharedPort({ host: config.host, port: config.port, http1, http2, ready });
  const url = `http://${urlHost(config.host)}:${listener.port}`;

  let closing: Promise<void> | undefined;
  return {
    fastify,
    url,
    port: listener.port,
    setHttp2Handler: (handler) => {
      h2Handler = handler;
    },
    draining: () => draining,
    markReady: () => markReady(),
    markFailed: (error) => markFailed(error),
    close() {
      closing ??= (async () => {
        draining = true;
        // Connections are still accepted while in-flight requests finish: /readyz answers 503 and new
        // work gets 503 (refuseWhileDraining) instead of a refused connection.
        // Idle keep-alive connections go now; busy ones close after their response (keep-alive is off).
        for (const socket of listener.sockets) if (!socketsBusy.has(socket)) socket.destroy();
        for (const session of listener.sessions) session.close();
        if (inflight > 0) {
          await new Promise<void>((resolve) => {
            drained = resolve;
            setTimeout(resolve, config.shutdownTimeoutMs).unref();
          });
        }
        const stopped = listener.stopAccepting();
        for (const socket of listener.sockets) socket.destroy();
        for (const session of listener.sessions) session.destroy();
        await fastify.close();
        await stopped;
      })();
      return closing;
    },
    async abort() {
      for (const socket of listener.sockets) socket.destroy();
      await listener.stopAccepting();
      await fastify.close().catch(() => {});
    },
  };
}
