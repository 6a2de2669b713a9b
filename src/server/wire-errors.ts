import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorDetailSchema } from '../gen/pixel/v1/common_pb.ts';
import { type ErrorCode, PixelError, redactSecrets, toPixelError } from '../protocol/errors.ts';

/** PixelError codes are Connect's codes in snake case: `invalid_argument` → Code.InvalidArgument. */
const CONNECT_CODE: Record<ErrorCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  permission_denied: Code.PermissionDenied,
  unauthenticated: Code.Unauthenticated,
  resource_exhausted: Code.ResourceExhausted,
  failed_precondition: Code.FailedPrecondition,
  aborted: Code.Aborted,
  out_of_range: Code.OutOfRange,
  unimplemented: Code.Unimplemented,
  unavailable: Code.Unavailable,
  deadline_exceeded: Code.DeadlineExceeded,
  cancelled: Code.Canceled,
  data_loss: Code.DataLoss,
  internal: Code.Internal,
  unknown: Code.Unknown,
};

const PIXEL_CODE = new Map<Code, ErrorCode>(
  Object.entries(CONNECT_CODE).map(([k, v]) => [v, k as ErrorCode]),
);

/** The message a caller sees: the field first, so it is named even by clients that ignore details. */
export function publicMessage(error: PixelError): string {
  const message = redactSecrets(error.message);
  if (error.field === undefined || message.startsWith(error.field)) return message;
  return `${error.field}: ${message}`;
}

/**
 * Anything thrown by a handler → a ConnectError with the right code, the field in the message, and an
 * ErrorDetail (code, field, reason, retryable, retry wait). Internal errors never leak their text.
 */
export function toConnectError(thrown: unknown): ConnectError {
  if (thrown instanceof ConnectError && !PixelError.isInstance(thrown)) return thrown;
  const error = toPixelError(thrown);
  const internal = error.code === 'internal' || error.code === 'unknown';
  const message = internal ? 'internal error (see the server log)' : publicMessage(error);
  const metadata = new Headers();
  if (error.retryAfterMs !== undefined)
    metadata.set('retry-after', String(Math.ceil(error.retryAfterMs / 1000)));
  return new ConnectError(message, CONNECT_CODE[error.code], metadata, [
    {
      desc: ErrorDetailSchema,
      value: {
        code: error.code,
        field: error.field ?? '',
        reason: error.reason ?? '',
        retryable: error.retryable,
        ...(error.retryAfterMs !== undefined && { retryAfterMs: BigInt(Math.round(error.retryAfterMs)) }),
      },
    },
  ]);
}

/** The Pixel code for a Connect code (for metrics of errors raised by Connect itself, e.g. bad JSON). */
export function pixelCodeOf(error: unknown): ErrorCode {
  if (PixelError.isInstance(error)) return error.code;
  if (error instanceof ConnectError) return PIXEL_CODE.get(error.code) ?? 'unknown';
  return toPixelError(error).code;
}

/** OpenAI's error `type` for each status family, as its SDKs map them to exception classes. */
function openAIType(error: PixelError): string {
  switch (error.code) {
    case 'unauthenticated':
      return 'authentication_error';
    case 'permission_denied':
      return 'permission_error';
    case 'not_found':
      return 'not_found_error';
    case 'resource_exhausted':
      return 'rate_limit_error';
    case 'invalid_argument':
    case 'out_of_range':
    case 'failed_precondition':
    case 'already_exists':
    case 'aborted':
      return 'invalid_request_error';
    default:
      return 'server_error';
  }
}

/** `{ error: { message, type, param, code } }`, the body every OpenAI SDK parses, plus its HTTP status. */
export function openAIErrorBody(thrown: unknown): {
  status: number;
  body: { error: Record<string, unknown> };
} {
  const error = toPixelError(thrown);
  const internal = error.code === 'internal' || error.code === 'unknown';
  return {
    status: error.httpStatus,
    body: {
      error: {
        message: internal ? 'internal error (see the server log)' : publicMessage(error),
        type: openAIType(error),
        param: error.field ?? null,
        code: error.reason ?? error.code,
        ...(error.retryAfterMs !== undefined && { retry_after_ms: error.retryAfterMs }),
      },
    },
  };
}
