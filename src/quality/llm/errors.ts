import { APICallError, NoObjectGeneratedError, NoOutputGeneratedError } from 'ai';
import { PixelError, redactSecrets, toPixelError } from '../../protocol/errors.ts';

/**
 * Turns whatever an AI SDK call threw into a PixelError naming who failed. Output that is not the
 * asked-for structure is `malformed_response`; a refusal is `content_moderated`. Neither is ever
 * turned into an answer.
 */
export function llmError(error: unknown, who: string, field = 'judge'): PixelError {
  if (PixelError.isInstance(error)) return error;
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError'))
    return toPixelError(error);
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    const code =
      status === 401 || status === 403
        ? 'unauthenticated'
        : status === 429
          ? 'resource_exhausted'
          : status !== undefined && status >= 500
            ? 'unavailable'
            : status === 400
              ? 'invalid_argument'
              : 'unknown';
    return new PixelError({
      code,
      field,
      provider: who,
      providerStatus: status,
      reason: status === 429 ? 'rate_limited' : status === 401 || status === 403 ? 'auth' : 'provider_error',
      message: `${field} ${who} failed: HTTP ${status ?? '?'} ${redactSecrets(error.message).slice(0, 300)}`,
      retryable: error.isRetryable,
      cause: error,
    });
  }
  if (NoObjectGeneratedError.isInstance(error) || NoOutputGeneratedError.isInstance(error)) {
    const finish = NoObjectGeneratedError.isInstance(error) ? String(error.finishReason ?? '') : '';
    const refused = finish === 'content-filter';
    return new PixelError({
      code: refused ? 'failed_precondition' : 'internal',
      field,
      provider: who,
      reason: refused ? 'content_moderated' : 'malformed_response',
      message: refused
        ? `${field} ${who} refused to answer (finish reason ${finish})`
        : `${field} ${who} returned output that is not the asked-for structure`,
      retryable: false,
      cause: error,
    });
  }
  const wrapped = toPixelError(error);
  return new PixelError({
    code: wrapped.code,
    field,
    provider: who,
    reason: wrapped.reason ?? 'provider_error',
    message: `${field} ${who} failed: ${wrapped.message}`,
    cause: error,
  });
}

export function refusal(who: string, detail: string, field = 'judge'): PixelError {
  return new PixelError({
    code: 'failed_precondition',
    field,
    provider: who,
    reason: 'content_moderated',
    retryable: false,
    message: `${field} ${who} refused to answer: ${redactSecrets(detail).slice(0, 300)}`,
  });
}

export function malformed(who: string, detail: string, field = 'judge'): PixelError {
  return new PixelError({
    code: 'internal',
    field,
    provider: who,
    reason: 'malformed_response',
    retryable: false,
    message: `${field} ${who} returned malformed output: ${detail}`,
  });
}
