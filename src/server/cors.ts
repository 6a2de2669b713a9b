import { cors as connectCors } from '@connectrpc/connect';
import { configError } from '../platform/config.ts';

/** What browsers may send beyond Connect's own headers. */
const PIXEL_REQUEST_HEADERS = ['authorization', 'idempotency-key', 'x-request-id', 'grpc-timeout'];
/** What browsers may read beyond Connect's and gRPC-Web's own headers. */
const PIXEL_EXPOSED_HEADERS = ['x-request-id', 'retry-after', 'idempotent-replayed', 'pixel-auth'];
/** Connect's list names the trailers of gRPC-Web; browsers also need Connect's version and encodings. */
const CONNECT_EXPOSED = ['connect-protocol-version', 'connect-content-encoding', 'connect-accept-encoding'];
const PREFLIGHT_MAX_AGE_S = 7200;

export type CorsDecision =
  /** Not a cross-origin browser request, or an allowed one (headers added): serve it. */
  | { kind: 'continue' }
  /** A preflight, answered here. */
  | { kind: 'preflight'; status: 204; headers: Record<string, string> }
  /** An origin that was not allowed. */
  | { kind: 'refused'; origin: string };

export interface CorsPolicy {
  /** Response headers to add for an allowed origin (empty when there is no Origin or it is refused). */
  decide(request: { method: string; origin: string | undefined; sameOrigin: boolean; preflight: boolean }): {
    decision: CorsDecision;
    headers: Record<string, string>;
  };
  readonly origins: readonly string[];
}

/** PIXEL_CORS_ORIGINS: comma-separated origins (`https://app.example.com`), none by default. */
export function parseCorsOrigins(raw: string | undefined): string[] {
  const out: string[] = [];
  for (const entry of (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    let origin: string;
    try {
      const url = new URL(entry);
      if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname.length > 1 || url.search)
        throw new Error('shape');
      origin = url.origin;
    } catch {
      throw configError(
        'PIXEL_CORS_ORIGINS',
        `entries must be origins like https://app.example.com, not "${entry}"`,
      );
    }
    out.push(origin);
  }
  return out;
}

/**
 * Cross-origin browser access for Connect-Web and gRPC-Web clients: only the named origins, preflight
 * included. Any other cross-origin request is refused outright (not just left without CORS headers), so
 * a page on another site cannot make the browser send even a "simple" request that has effects here.
 */
export function createCorsPolicy(origins: readonly string[]): CorsPolicy {
  const allowed = new Set(origins);
  const list = (names: readonly string[]) => [...new Set(names.map((n) => n.toLowerCase()))].join(', ');
  const expose = list([...connectCors.exposedHeaders, ...CONNECT_EXPOSED, ...PIXEL_EXPOSED_HEADERS]);
  const allowHeaders = list([...connectCors.allowedHeaders, ...PIXEL_REQUEST_HEADERS]);
  const allowMethods = [...new Set([...connectCors.allowedMethods, 'DELETE'])].join(', ');
  return {
    origins,
    decide({ origin, sameOrigin, preflight }) {
      if (origin === undefined || (sameOrigin && !preflight))
        return { decision: { kind: 'continue' }, headers: {} };
      if (!allowed.has(origin)) {
        if (sameOrigin) return { decision: { kind: 'continue' }, headers: {} };
        return { decision: { kind: 'refused', origin }, headers: {} };
      }
      const headers: Record<string, string> = {
        'access-control-allow-origin': origin,
        vary: 'Origin',
        'access-control-expose-headers': expose,
      };
      if (preflight) {
        return {
          decision: {
            kind: 'preflight',
            status: 204,
            headers: {
              ...headers,
              'access-control-allow-methods': allowMethods,
              'access-control-allow-headers': allowHeaders,
              'access-control-max-age': String(PREFLIGHT_MAX_AGE_S),
            },
          },
          headers,
        };
      }
      return { decision: { kind: 'continue' }, headers };
    },
  };
}
