import sharp from 'sharp';
import { type ErrorCode, PixelError, redactSecrets } from '../../protocol/errors.ts';
import { readImageHeader } from './image-header.ts';

/**
 * Shared pieces every adapter uses: HTTP failure classification, provider wait parsing, image
 * checks and polling. Each adapter adds its own provider-specific rules (moderation codes, body shapes).
 */

export interface HttpFailure {
  provider: string;
  status: number;
  headers: Headers;
  /** The provider's own message, already extracted from its error body. */
  message: string;
  requestId?: string;
  /** Set by the adapter when the body says this is a moderation refusal. */
  moderated?: boolean;
  /** Wait the body asked for (e.g. Google RetryInfo, Replicate "resets in ~30s"), when headers do not carry it. */
  retryAfterMs?: number;
}

/** Maps an HTTP failure onto Pixel's closed error codes. */
export function classifyHttpFailure(failure: HttpFailure): PixelError {
  const { provider, status } = failure;
  const message = redactSecrets(failure.message || `HTTP ${status}`);
  const base = { provider, providerStatus: status, providerRequestId: failure.requestId };
  if (failure.moderated) {
    return new PixelError({
      ...base,
      code: 'permission_denied',
      reason: 'content_moderated',
      retryable: false,
      message: `${provider} refused the content: ${message}`,
    });
  }
  const retryAfterMs = failure.retryAfterMs ?? parseRetryAfter(failure.headers);
  let code: ErrorCode;
  let reason: string;
  if (status === 400 || status === 413 || status === 422)
    [code, reason] = ['invalid_argument', 'provider_error'];
  else if (status === 401) [code, reason] = ['unauthenticated', 'auth'];
  else if (status === 402) [code, reason] = ['resource_exhausted', 'insufficient_credits'];
  else if (status === 403) [code, reason] = ['permission_denied', 'auth'];
  else if (status === 404) [code, reason] = ['not_found', 'provider_error'];
  else if (status === 408) [code, reason] = ['deadline_exceeded', 'timeout'];
  else if (status === 429) [code, reason] = ['resource_exhausted', 'rate_limited'];
  else if (status >= 500) [code, reason] = ['unavailable', 'provider_unavailable'];
  else [code, reason] = ['unknown', 'provider_error'];
  // 402 (no credits) is exhausted but waiting will not help.
  const retryable = status === 429 || status === 408 || status >= 500;
  return new PixelError({
    ...base,
    code,
    reason,
    retryable,
    retryAfterMs: retryable ? retryAfterMs : undefined,
    message: `${provider} ${status}: ${message}`,
  });
}

/** `retry-after-ms` (OpenAI), `Retry-After` in seconds or as an HTTP date. */
export function parseRetryAfter(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Google's `"27.4s"` durations (RetryInfo.retryDelay). */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

/** "resets in ~30s", "try again in 2.5 seconds", "in 1m20s" inside a provider message. */
export function parseWaitFromMessage(message: string): number | undefined {
  const match = /(?:in|after)\s+~?(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|seconds?|m|min|minutes?)\b/i.exec(message);
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = match[2]!.toLowerCase();
  if (unit === 'ms') return Math.round(value);
  if (unit.startsWith('m')) return Math.round(value * 60_000);
  return Math.round(value * 1000);
}

export interface CheckedImage {
  bytes: Uint8Array;
  mediaType: string;
  width: number;
  height: number;
}

const FORMAT_TO_MEDIA: Record<string, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
};

/** What the header decode of checkImage found, for later steps that would otherwise decode it again. */
export interface CheckedHeader {
  /** sharp's format name: png, jpeg, webp, gif. */
  format: string;
  width: number;
  height: number;
  orientation?: number;
  hasAlpha: boolean;
}

// Keyed by the very bytes checked (not a copy), so the facts cannot belong to other bytes.
const checkedHeaders = new WeakMap<Uint8Array, CheckedHeader>();

/** The header facts checkImage found for exactly these bytes, if it checked them. */
export function checkedHeader(bytes: Uint8Array): CheckedHeader | undefined {
  return checkedHeaders.get(bytes);
}

/** Decodes the header of what a provider returned; anything that is not an image is a malformed response. */
export async function checkImage(
  provider: string,
  bytes: Uint8Array,
  declaredType?: string,
): Promise<CheckedImage> {
  if (bytes.byteLength === 0) throw malformed(provider, 'returned an empty image');
  const header = readImageHeader(bytes) ?? (await sharpHeader(provider, bytes, declaredType));
  const mediaType = FORMAT_TO_MEDIA[header.format];
  if (!mediaType) throw malformed(provider, `returned an unsupported image format ${header.format}`);
  checkedHeaders.set(bytes, header);
  return { bytes, mediaType, width: header.width, height: header.height };
}

/** The slower, thorough read: libvips, for what readImageHeader leaves (GIF, odd or broken headers). */
async function sharpHeader(
  provider: string,
  bytes: Uint8Array,
  declaredType?: string,
): Promise<CheckedHeader> {
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    meta = await sharp(bytes).metadata();
  } catch {
    throw malformed(
      provider,
      `returned bytes that are not an image${declaredType ? ` (declared ${declaredType})` : ''}`,
    );
  }
  if (!meta.format || !FORMAT_TO_MEDIA[meta.format] || !meta.width || !meta.height)
    throw malformed(provider, `returned an unsupported image format ${meta.format ?? '?'}`);
  return {
    format: meta.format,
    width: meta.width,
    height: meta.height,
    ...(meta.orientation !== undefined && { orientation: meta.orientation }),
    hasAlpha: meta.hasAlpha === true,
  };
}

export function malformed(provider: string, what: string): PixelError {
  return new PixelError({
    code: 'unavailable',
    reason: 'malformed_response',
    retryable: true,
    provider,
    message: `${provider} ${what}`,
  });
}

export function decodeBase64Image(provider: string, value: unknown, field: string): Uint8Array {
  if (typeof value !== 'string' || value.length === 0) throw malformed(provider, `response has no ${field}`);
  const data = value.startsWith('data:') ? value.slice(value.indexOf(',') + 1) : value;
  const buffer = Buffer.from(data, 'base64');
  // A view, not a copy (`new Uint8Array(buffer)` would copy the whole image once more).
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Reads a JSON body; a body that is not JSON is a malformed response, not a crash. */
export async function readJson(provider: string, response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw malformed(
      provider,
      `returned a body that is not JSON (HTTP ${response.status}, ${text.slice(0, 80)})`,
    );
  }
}

/** Sleeps, waking early with a cancellation error when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(cancelled(signal));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A cancellation or deadline, depending on why the signal fired. */
export function cancelled(signal: AbortSignal): PixelError {
  const reason = signal.reason as unknown;
  if (PixelError.isInstance(reason)) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new PixelError({
      code: 'deadline_exceeded',
      reason: 'timeout',
      message: 'the request ran out of time',
    });
  }
  return new PixelError({ code: 'cancelled', reason: 'cancelled', message: 'the request was cancelled' });
}

/** Network-level failure (connection refused, reset) → unavailable, retryable. */
export function networkFailure(provider: string, error: unknown, signal?: AbortSignal): PixelError {
  if (signal?.aborted) return cancelled(signal);
  if (PixelError.isInstance(error)) return error;
  const message =
    error instanceof Error
      ? error.cause instanceof Error
        ? error.cause.message
        : error.message
      : String(error);
  return new PixelError({
    code: 'unavailable',
    reason: 'provider_unavailable',
    retryable: true,
    provider,
    message: `${provider} could not be reached: ${redactSecrets(message)}`,
    cause: error,
  });
}
