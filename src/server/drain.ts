import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

/** Still answered while draining, so load balancers and orchestrators see the server going away. */
const HEALTH_PATHS = new Set([
  '/healthz',
  '/readyz',
  '/grpc.health.v1.Health/Check',
  '/grpc.health.v1.Health/Watch',
]);

/**
 * While the server drains at shutdown it keeps accepting connections: health checks are answered
 * (`/readyz` 503, the gRPC health service NOT_SERVING) and new work is refused with 503 / UNAVAILABLE and
 * a Retry-After, while requests already in flight finish. True when the request was answered here.
 */
export function refuseWhileDraining(
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
): boolean {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (HEALTH_PATHS.has(path)) return false;
  const out = res as ServerResponse;
  const contentType = String(req.headers['content-type'] ?? '');
  const message = 'the server is shutting down; retry on another instance';
  if (contentType.startsWith('application/grpc') && req.httpVersionMajor >= 2) {
    out.writeHead(200, {
      'content-type': 'application/grpc',
      'grpc-status': '14',
      'grpc-message': 'the server is shutting down',
    });
    out.end();
    return true;
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', 'retry-after': '1' };
  if (req.httpVersionMajor < 2) headers.connection = 'close';
  out.writeHead(503, headers);
  out.end(JSON.stringify({ error: { code: 'unavailable', reason: 'draining', message } }));
  return true;
}
