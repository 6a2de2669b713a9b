import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { CorsPolicy } from './cors.ts';
import type { HostAllowlist } from './host-allowlist.ts';

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

export interface RequestGate {
  /** True when the request may go on to routing; otherwise the answer has been sent. */
  admit(req: AnyRequest, res: AnyResponse): boolean;
  /** Refusals so far, by reason (for the tests and the start-up checks). */
  readonly refused: { host: number; origin: number };
}

function header(req: AnyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Both response types take the same writeHead/end calls; their typings just do not unify. */
function send(res: AnyResponse, status: number, headers: Record<string, string>, body?: string): void {
  const out = res as ServerResponse;
  out.writeHead(status, headers);
  out.end(body);
}

/**
 * Probes that reveal nothing but liveness: a Kubernetes probe names the pod's IP as its host, which no
 * allowlist can know in advance, and a rebinding page learns nothing from them.
 */
const PROBE_PATHS = new Set([
  '/healthz',
  '/readyz',
  '/grpc.health.v1.Health/Check',
  '/grpc.health.v1.Health/Watch',
]);

function isProbe(req: AnyRequest): boolean {
  const url = req.url ?? '';
  const path = url.includes('?') ? url.slice(0, url.indexOf('?')) : url;
  return PROBE_PATHS.has(path) && (req.method === 'GET' || req.method === 'POST' || req.method === 'HEAD');
}

function isGrpc(req: AnyRequest): boolean {
  return (header(req, 'content-type') ?? '').startsWith('application/grpc');
}

/**
 * Runs before any routing, on HTTP/1.1 and HTTP/2 alike: the Host (`:authority`) allowlist, then the
 * browser origin (CORS, preflight answered here). gRPC callers get their refusal as a grpc-status too.
 */
export function createRequestGate(options: { hosts: HostAllowlist; cors: CorsPolicy }): RequestGate {
  const refused = { host: 0, origin: 0 };
  const refuse = (
    req: AnyRequest,
    res: AnyResponse,
    status: number,
    field: string,
    reason: string,
    message: string,
  ) => {
    const body = JSON.stringify({ error: { code: 'permission_denied', field, reason, message } });
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (isGrpc(req)) {
      // Trailers-only gRPC answer: PERMISSION_DENIED.
      headers['content-type'] = 'application/grpc';
      headers['grpc-status'] = '7';
      headers['grpc-message'] = encodeURIComponent(message);
      send(res, status, headers);
      return;
    }
    if ('httpVersionMajor' in req && req.httpVersionMajor === 1) headers.connection = 'close';
    send(res, status, headers, body);
  };
  return {
    refused,
    admit(req, res) {
      const host =
        req.httpVersionMajor >= 2 ? (header(req, ':authority') ?? header(req, 'host')) : header(req, 'host');
      if (!options.hosts.allows(host) && !isProbe(req)) {
        refused.host++;
        refuse(
          req,
          res,
          421,
          'host',
          'host_not_allowed',
          `this server does not answer to the host name "${String(host ?? '').slice(0, 100)}"; add it to PIXEL_ALLOWED_HOSTS`,
        );
        return false;
      }
      const origin = header(req, 'origin');
      const scheme = 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http';
      const { decision, headers } = options.cors.decide({
        method: req.method ?? 'GET',
        origin,
        sameOrigin:
          origin !== undefined &&
          host !== undefined &&
          origin.toLowerCase() === `${scheme}://${host.toLowerCase()}`,
        preflight: req.method === 'OPTIONS' && header(req, 'access-control-request-method') !== undefined,
      });
      if (decision.kind === 'refused') {
        refused.origin++;
        refuse(
          req,
          res,
          403,
          'origin',
          'origin_not_allowed',
          `requests from the web origin "${decision.origin.slice(0, 200)}" are not allowed; add it to PIXEL_CORS_ORIGINS`,
        );
        return false;
      }
      if (decision.kind === 'preflight') {
        send(res, decision.status, decision.headers);
        return false;
      }
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      return true;
    },
  };
}
