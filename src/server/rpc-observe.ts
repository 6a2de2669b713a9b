import { randomUUID } from 'node:crypto';
import { Code, ConnectError, createContextKey, type Interceptor } from '@connectrpc/connect';
import type { Logger } from 'pino';
import { PixelError } from '../protocol/errors.ts';
import { CALLER_KEY, CLIENT_IP_KEY } from './auth.ts';
import type { Caller } from './image-service.ts';
import type { Observation, ServerMetrics, Surface } from './metrics.ts';
import { pixelCodeOf, toConnectError } from './wire-errors.ts';

/** Filled in by handlers (model, provider) and read when the request's metrics are recorded. */
export const OBSERVATION_KEY = createContextKey<Observation | undefined>(undefined, {
  description: 'pixel observation',
});
export const REQUEST_ID_KEY = createContextKey<string>('', { description: 'pixel request id' });

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/** A caller's `x-request-id` when it is a plain token (it ends up in logs), else a fresh one. */
export function requestIdFrom(header: string | string[] | null | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && REQUEST_ID_RE.test(value) ? value : randomUUID();
}

function surfaceOf(contentType: string | null): Surface {
  if (contentType?.startsWith('application/grpc-web')) return 'grpc-web';
  if (contentType?.startsWith('application/grpc')) return 'grpc';
  return 'connect';
}

/**
 * Outermost RPC interceptor: request id (echoed as `x-request-id`), one JSON log line per RPC, the
 * request metrics, and PixelError → ConnectError for everything the handlers throw. Streams are measured when their last message has gone out, not when they start.
 */
export function observeInterceptor(metrics: ServerMetrics, log: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const surface = surfaceOf(req.header.get('content-type'));
    let id = req.contextValues.get(REQUEST_ID_KEY);
    if (id === '') {
      id = requestIdFrom(req.header.get('x-request-id'));
      req.contextValues.set(REQUEST_ID_KEY, id);
    }
    const seen: Observation = {};
    req.contextValues.set(OBSERVATION_KEY, seen);
    const method = req.method.name;
    const finish = (error?: unknown, original?: unknown) => {
      const outcome = error === undefined ? 'ok' : pixelCodeOf(error);
      const ms = performance.now() - started;
      metrics.request(surface, method, outcome, ms / 1000, seen);
      const caller: Caller | undefined = req.contextValues.get(CALLER_KEY);
      const line = {
        reqId: id,
        surface,
        rpc: `${req.service.typeName}/${method}`,
        outcome,
        ms: Math.round(ms),
        team: caller?.team,
        client: req.contextValues.get(CLIENT_IP_KEY),
        model: seen.model,
      };
      if (error !== undefined && (outcome === 'internal' || outcome === 'unknown'))
        log.error({ ...line, err: original ?? error }, 'rpc failed');
      else log.info(line, 'rpc');
    };
    try {
      const res = await next(req);
      res.header.set('x-request-id', id);
      if (!res.stream) {
        finish();
        return res;
      }
      const messages = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* messages;
            finish();
          } catch (error) {
            const wire = withRequestId(toConnectError(deadlineAware(error, req.signal)), id);
            finish(wire, error);
            throw wire;
          }
        })(),
      };
    } catch (error) {
      const wire = withRequestId(toConnectError(deadlineAware(error, req.signal)), id);
      finish(wire, error);
      throw wire;
    }
  };
}

/**
 * A handler stopped by the call's deadline (grpc-timeout, connect-timeout-ms) sees its signal abort and
 * its provider calls fail as `cancelled`; the caller did not go away, so the call ends DEADLINE_EXCEEDED.
 */
function deadlineAware(error: unknown, signal: AbortSignal): unknown {
  if (!signal.aborted) return error;
  const reason: unknown = signal.reason;
  if (!(reason instanceof ConnectError) || reason.code !== Code.DeadlineExceeded) return error;
  const wire = toConnectError(error);
  if (wire.code === Code.DeadlineExceeded || wire.code !== Code.Canceled) return error;
  return new PixelError({
    code: 'deadline_exceeded',
    reason: 'deadline',
    retryable: true,
    message: 'the call ran past the deadline its caller set',
  });
}

function withRequestId(error: ConnectError, id: string): ConnectError {
  error.metadata.set('x-request-id', id);
  return error;
}
