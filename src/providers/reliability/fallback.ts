import { PixelError, toPixelError } from '../../protocol/errors.ts';
import { cancelled } from '../common/http.ts';

export interface FallbackRoute<T> {
  /** Model id of the route (e.g. `fal/fal-ai/flux/dev`). */
  id: string;
  run: (signal: AbortSignal | undefined) => Promise<T>;
}

export interface FallbackAttempt {
  route: string;
  error?: PixelError;
}

export interface FallbackResult<T> {
  value: T;
  route: string;
  attempts: FallbackAttempt[];
}

export interface FallbackOptions {
  signal?: AbortSignal;
  /** Called after each failed route, before the next one is tried. */
  onFallback?: (attempt: FallbackAttempt & { error: PixelError }, next: string) => void;
}

/** Only failures that another route could avoid move on; bad input, auth and moderation would fail everywhere. */
export function canFallBack(error: PixelError): boolean {
  if (error.code === 'cancelled' || error.code === 'invalid_argument') return false;
  if (error.reason === 'content_moderated') return false;
  return error.retryable;
}

/**
 * Runs an alias's routes in order until one succeeds. The caller passes only routes that can honour
 * the request (filtered with the translation report); this function decides only when to move on.
 */
export async function runWithFallback<T>(
  routes: ReadonlyArray<FallbackRoute<T>>,
  options: FallbackOptions = {},
): Promise<FallbackResult<T>> {
  if (routes.length === 0) {
    throw new PixelError({
      code: 'failed_precondition',
      reason: 'no_route',
      field: 'model',
      message: 'no route can serve this request',
    });
  }
  const attempts: FallbackAttempt[] = [];
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i]!;
    if (options.signal?.aborted) throw cancelled(options.signal);
    try {
      const value = await route.run(options.signal);
      attempts.push({ route: route.id });
      return { value, route: route.id, attempts };
    } catch (thrown) {
      const error = options.signal?.aborted ? cancelled(options.signal) : toPixelError(thrown);
      attempts.push({ route: route.id, error });
      const next = routes[i + 1];
      if (!canFallBack(error) || next === undefined) throw summarise(error, attempts);
      options.onFallback?.({ route: route.id, error }, next.id);
    }
  }
  throw new Error('unreachable');
}

/** The last error, with every route's failure in the message so the caller sees the whole chain. */
function summarise(last: PixelError, attempts: FallbackAttempt[]): PixelError {
  if (attempts.length === 1) return last;
  const chain = attempts.map((a) => `${a.route}: ${a.error?.message ?? 'ok'}`).join('; ');
  return new PixelError({
    code: last.code,
    reason: last.reason,
    field: last.field,
    retryable: last.retryable,
    retryAfterMs: last.retryAfterMs,
    provider: last.provider,
    providerStatus: last.providerStatus,
    providerRequestId: last.providerRequestId,
    message: `all ${attempts.length} routes failed (${chain})`,
    cause: last,
  });
}
