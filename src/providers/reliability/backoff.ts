import type { PixelError } from '../../protocol/errors.ts';
import type { ReliabilityPolicy } from './policy.ts';

/**
 * How long to wait before retry number `retry` (1 = first retry). A provider's own wait wins over
 * our backoff; otherwise full jitter (AWS architecture blog): uniform in [0, min(cap, base·2^(retry-1))].
 */
export function retryDelayMs(
  retry: number,
  error: PixelError,
  policy: Pick<ReliabilityPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number,
): number {
  if (error.retryAfterMs !== undefined) return Math.max(0, error.retryAfterMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** Moderation, bad input, auth, caller cancellation and open circuits are never retried by the loop. */
export function shouldRetry(error: PixelError): boolean {
  if (!error.retryable) return false;
  if (error.reason === 'content_moderated' || error.reason === 'circuit_open') return false;
  return error.code !== 'cancelled' && error.code !== 'invalid_argument';
}
