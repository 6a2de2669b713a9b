import { redactRegistered } from './secrets.ts';

/**
 * Pixel's one error type. Codes are the closed gRPC/Connect set so they map 1:1 onto RPC
 * status codes; `retryable` is derived from the code unless a caller knows better
 * (e.g. a provider's 429 is retryable, a moderation refusal never is).
 */
export const ERROR_CODES = [
  'invalid_argument',
  'not_found',
  'already_exists',
  'permission_denied',
  'unauthenticated',
  'resource_exhausted',
  'failed_precondition',
  'aborted',
  'out_of_range',
  'unimplemented',
  'unavailable',
  'deadline_exceeded',
  'cancelled',
  'data_loss',
  'internal',
  'unknown',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'unavailable',
  'resource_exhausted',
  'deadline_exceeded',
  'aborted',
]);

/** HTTP status used by the REST surfaces for each code (Connect's own table). */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_argument: 400,
  out_of_range: 400,
  failed_precondition: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  already_exists: 409,
  aborted: 409,
  resource_exhausted: 429,
  cancelled: 499,
  unimplemented: 501,
  unavailable: 503,
  deadline_exceeded: 504,
  data_loss: 500,
  internal: 500,
  unknown: 500,
};

/**
 * Machine-readable sub-reasons that callers branch on. Open-ended on purpose: the code is the
 * closed set, the reason refines it (like google.rpc.ErrorInfo.reason).
 */
export type ErrorReason =
  | 'validation'
  | 'unknown_model'
  | 'model_retired'
  | 'unsupported_parameter'
  | 'content_moderated'
  | 'rate_limited'
  | 'provider_error'
  | 'provider_unavailable'
  | 'malformed_response'
  | 'timeout'
  | 'cancelled'
  | 'circuit_open'
  | 'no_route'
  | 'auth'
  | (string & {});

export interface PixelErrorOptions {
  code: ErrorCode;
  message: string;
  /** The request field at fault, in the caller's terms (e.g. `cfgScale`, `providerOptions.openai.size`). */
  field?: string;
  reason?: ErrorReason;
  retryable?: boolean;
  /** How long the provider asked us to wait before trying again. */
  retryAfterMs?: number;
  provider?: string;
  providerStatus?: number;
  providerRequestId?: string;
  cause?: unknown;
}

const MARKER = Symbol.for('pixel.error');

export class PixelError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly reason: ErrorReason | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly provider: string | undefined;
  readonly providerStatus: number | undefined;
  readonly providerRequestId: string | undefined;
  readonly [MARKER] = true;

  constructor(options: PixelErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PixelError';
    this.code = options.code;
    this.field = options.field;
    this.reason = options.reason;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(options.code);
    this.retryAfterMs = options.retryAfterMs;
    this.provider = options.provider;
    this.providerStatus = options.providerStatus;
    this.providerRequestId = options.providerRequestId;
  }

  /** Works across module copies (tests, bundled workers), unlike instanceof. */
  static isInstance(value: unknown): value is PixelError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
    };
    if (this.field !== undefined) out.field = this.field;
    if (this.reason !== undefined) out.reason = this.reason;
    if (this.retryAfterMs !== undefined) out.retryAfterMs = this.retryAfterMs;
    if (this.provider !== undefined) out.provider = this.provider;
    if (this.providerStatus !== undefined) out.providerStatus = this.providerStatus;
    if (this.providerRequestId !== undefined) out.providerRequestId = this.providerRequestId;
    return out;
  }
}

export function invalidArgument(
  field: string,
  message: string,
  reason: ErrorReason = 'validation',
): PixelError {
  return new PixelError({ code: 'invalid_argument', field, message, reason });
}

/** Wraps anything thrown into a PixelError without losing an existing one. */
export function toPixelError(error: unknown): PixelError {
  if (PixelError.isInstance(error)) return error;
  if (error instanceof Error && error.name === 'AbortError') {
    return new PixelError({
      code: 'cancelled',
      message: 'the request was cancelled',
      reason: 'cancelled',
      cause: error,
    });
  }
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new PixelError({
      code: 'deadline_exceeded',
      message: 'the request timed out',
      reason: 'timeout',
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new PixelError({ code: 'internal', message: redactSecrets(message), cause: error });
}

const SECRET_PATTERNS: RegExp[] = [
  /\b(sk|pk|rk)-[A-Za-z0-9_-]{8,}/g,
  /\bpxl_[A-Za-z0-9_-]{8,}/g,
  /\br8_[A-Za-z0-9]{8,}/g,
  /\bAKIA[0-9A-Z]{12,}/g,
  /\bAIza[0-9A-Za-z_-]{20,}/g,
  /(Bearer|Key|Basic)\s+[A-Za-z0-9._~+/=:-]{8,}/gi,
  /(x-key|x-goog-api-key|api[_-]?key|token|secret|password)(["']?\s*[:=]\s*["']?)[^\s"',&}]+/gi,
];

/**
 * Removes credentials before a message reaches a log, an error or the catalogue: first every configured
 * secret by value (src/protocol/secrets.ts: whatever its format), then anything shaped like a credential.
 */
export function redactSecrets(text: string): string {
  let out = redactRegistered(text);
  for (const pattern of SECRET_PATTERNS) {
    out = out.replace(pattern, (match, p1: string | undefined, p2: string | undefined) => {
      if (typeof p1 === 'string' && typeof p2 === 'string') return `${p1}${p2}[redacted]`;
      if (typeof p1 === 'string' && /^(bearer|key|basic)$/i.test(p1)) return `${p1} [redacted]`;
      return match.length > 0 ? '[redacted]' : match;
    });
  }
  return out;
}
