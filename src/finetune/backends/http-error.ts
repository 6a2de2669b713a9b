import { type ErrorCode, PixelError } from '../../protocol/errors.ts';

/**
 * A training API's refusal as a PixelError: a refused key is `unauthenticated`, an unknown training
 * `not_found`, a rate limit `resource_exhausted`, a server fault `unavailable` (those two retried on the next
 * look), anything else `failed_precondition` (the job fails with the provider's answer in `message`).
 */
export function trainingHttpError(status: number, message: string, provider?: string): PixelError {
  const code: ErrorCode =
    status === 401 || status === 403
      ? 'unauthenticated'
      : status === 404
        ? 'not_found'
        : status === 429
          ? 'resource_exhausted'
          : status >= 500
            ? 'unavailable'
            : 'failed_precondition';
  return new PixelError({
    code,
    ...(provider !== undefined && { provider }),
    retryable: status === 429 || status >= 500,
    message,
  });
}
