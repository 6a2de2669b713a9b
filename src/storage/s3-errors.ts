import { PixelError, redactSecrets } from '../protocol/errors.ts';

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $retryable?: unknown;
}

/** True when the SDK error means "no such object" (HEAD says NotFound, GET says NoSuchKey). */
export function isS3NotFound(error: unknown): boolean {
  const e = error as SdkErrorShape | undefined;
  return (
    e?.name === 'NotFound' ||
    e?.name === 'NoSuchKey' ||
    (e?.$metadata?.httpStatusCode === 404 && e?.name !== 'NoSuchBucket')
  );
}

/** Maps an AWS SDK failure onto Pixel's codes; messages are redacted (they can echo signed URLs). */
export function s3Error(op: string, bucket: string, error: unknown): PixelError {
  const e = (error ?? {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const detail = redactSecrets(`${e.name ?? 'Error'}: ${e.message ?? String(error)}`);
  const message = `S3 ${op} on bucket "${bucket}" failed: ${detail}`;
  const base = {
    reason: 'storage',
    message,
    providerStatus: status,
    providerRequestId: e.$metadata?.requestId,
    cause: error,
  };
  if (e.name === 'NoSuchBucket') return new PixelError({ ...base, code: 'failed_precondition' });
  if (
    status === 401 ||
    status === 403 ||
    e.name === 'CredentialsProviderError' ||
    e.name === 'InvalidAccessKeyId'
  ) {
    return new PixelError({ ...base, code: 'permission_denied', retryable: false });
  }
  if (status === 429 || e.name === 'SlowDown') return new PixelError({ ...base, code: 'resource_exhausted' });
  if (status !== undefined && status >= 400 && status < 500)
    return new PixelError({ ...base, code: 'failed_precondition' });
  // 5xx, timeouts and connection failures: the store is unavailable, try again later.
  return new PixelError({ ...base, code: 'unavailable' });
}
