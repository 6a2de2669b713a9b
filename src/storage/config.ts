import { join } from 'node:path';
import { PixelError } from '../protocol/errors.ts';
import { LocalBlobStore, type LocalStoreConfig } from './local.ts';
import {
  DEFAULT_PRESIGN_SECONDS,
  MAX_PRESIGN_SECONDS,
  normalizePrefix,
  S3BlobStore,
  type S3StoreConfig,
} from './s3.ts';
import type { BlobStore } from './types.ts';

export type StoreConfig = ({ kind: 'local' } & LocalStoreConfig) | ({ kind: 's3' } & S3StoreConfig);

export const DEFAULT_PUBLIC_URL = 'http://127.0.0.1:8080';

/** The environment variables the store reads, for the README. */
export const STORE_ENV_VARS: ReadonlyArray<{ name: string; default: string; description: string }> = [
  {
    name: 'PIXEL_STORE',
    default: 'local',
    description: 'Blob store: `local` (a folder) or `s3` (any S3-compatible bucket).',
  },
  { name: 'PIXEL_DATA_DIR', default: './data', description: 'Data folder; local blobs go in `<dir>/blobs`.' },
  {
    name: 'PIXEL_PUBLIC_URL',
    default: DEFAULT_PUBLIC_URL,
    description: 'Base URL of this server; local blob URLs are `<url>/files/<key>`.',
  },
  { name: 'PIXEL_S3_BUCKET', default: '(required for s3)', description: 'Bucket name.' },
  { name: 'PIXEL_S3_PREFIX', default: '(none)', description: 'Folder inside the bucket, e.g. `pixel/`.' },
  { name: 'PIXEL_S3_REGION', default: 'AWS_REGION or us-east-1', description: 'Bucket region.' },
  {
    name: 'PIXEL_S3_ENDPOINT',
    default: '(AWS)',
    description: 'Endpoint of an S3-compatible service (MinIO, R2, …).',
  },
  {
    name: 'PIXEL_S3_FORCE_PATH_STYLE',
    default: 'true if an endpoint is set',
    description: 'Path-style URLs (`<endpoint>/<bucket>/<key>`).',
  },
  {
    name: 'PIXEL_S3_PUBLIC_BASE_URL',
    default: '(presign)',
    description: 'Public URL of the bucket root (CDN); without it URLs are presigned.',
  },
  {
    name: 'PIXEL_S3_HEAD_BEFORE_PUT',
    default: 'false',
    description:
      'HEAD each blob first and skip the upload when it exists (pays off only when the same bytes are stored often).',
  },
  {
    name: 'PIXEL_S3_PRESIGN_SECONDS',
    default: String(DEFAULT_PRESIGN_SECONDS),
    description: `Presigned URL lifetime, 1 to ${MAX_PRESIGN_SECONDS} seconds.`,
  },
  {
    name: 'AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE, …',
    default: '(SDK default chain)',
    description: 'S3 credentials, read by the AWS SDK itself.',
  },
];

type Env = Record<string, string | undefined>;

function configError(variable: string, message: string): PixelError {
  return new PixelError({
    code: 'invalid_argument',
    reason: 'config',
    field: variable,
    message: `${variable} ${message}`,
  });
}

function parseUrl(variable: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(variable, 'is not a valid URL'); // the value is not echoed: it may hold credentials
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw configError(variable, 'must be an http(s) URL');
  if (url.username || url.password) throw configError(variable, 'must not carry credentials');
  if (url.search || url.hash) throw configError(variable, 'must not have a query or fragment');
  return value.replace(/\/+$/, '');
}

function parseBool(variable: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw configError(variable, `must be true or false, not "${value}"`);
}

const set = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

/**
 * Reads the store settings from the environment; bad values throw a PixelError naming the variable.
 * `defaults.publicUrl` lets the server pass the URL it actually listens on.
 */
export function storeConfigFromEnv(
  env: Env = process.env,
  defaults: { publicUrl?: string } = {},
): StoreConfig {
  const kind = (env.PIXEL_STORE ?? 'local').trim() || 'local';
  if (kind === 'local') {
    const dataDir = set(env.PIXEL_DATA_DIR) ? env.PIXEL_DATA_DIR : './data';
    const publicUrl = set(env.PIXEL_PUBLIC_URL)
      ? env.PIXEL_PUBLIC_URL
      : (defaults.publicUrl ?? DEFAULT_PUBLIC_URL);
    return {
      kind: 'local',
      dir: join(dataDir, 'blobs'),
      publicBaseUrl: parseUrl('PIXEL_PUBLIC_URL', publicUrl),
    };
  }
  if (kind !== 's3') throw configError('PIXEL_STORE', `must be "local" or "s3", not "${kind}"`);

  const bucket = env.PIXEL_S3_BUCKET?.trim() ?? '';
  if (bucket === '') throw configError('PIXEL_S3_BUCKET', 'is required when PIXEL_STORE=s3');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw configError('PIXEL_S3_BUCKET', 'must be 3-63 lowercase letters, digits, dots or hyphens');
  }
  let prefix = '';
  if (set(env.PIXEL_S3_PREFIX)) {
    try {
      prefix = normalizePrefix(env.PIXEL_S3_PREFIX);
    } catch {
      throw configError(
        'PIXEL_S3_PREFIX',
        'must be folder names of letters, digits, ".", "_", "-" separated by "/"',
      );
    }
  }
  const region = (set(env.PIXEL_S3_REGION) ? env.PIXEL_S3_REGION : env.AWS_REGION)?.trim() || 'us-east-1';
  if (!/^[a-z0-9-]+$/.test(region)) throw configError('PIXEL_S3_REGION', `is not a region name: "${region}"`);
  const endpoint = set(env.PIXEL_S3_ENDPOINT)
    ? parseUrl('PIXEL_S3_ENDPOINT', env.PIXEL_S3_ENDPOINT)
    : undefined;
  const forcePathStyle = set(env.PIXEL_S3_FORCE_PATH_STYLE)
    ? parseBool('PIXEL_S3_FORCE_PATH_STYLE', env.PIXEL_S3_FORCE_PATH_STYLE)
    : endpoint !== undefined;
  const publicBaseUrl = set(env.PIXEL_S3_PUBLIC_BASE_URL)
    ? parseUrl('PIXEL_S3_PUBLIC_BASE_URL', env.PIXEL_S3_PUBLIC_BASE_URL)
    : undefined;
  const skipExisting = set(env.PIXEL_S3_HEAD_BEFORE_PUT)
    ? parseBool('PIXEL_S3_HEAD_BEFORE_PUT', env.PIXEL_S3_HEAD_BEFORE_PUT)
    : false;
  let presignSeconds = DEFAULT_PRESIGN_SECONDS;
  if (set(env.PIXEL_S3_PRESIGN_SECONDS)) {
    const raw = env.PIXEL_S3_PRESIGN_SECONDS.trim();
    presignSeconds = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!(presignSeconds >= 1 && presignSeconds <= MAX_PRESIGN_SECONDS)) {
      throw configError(
        'PIXEL_S3_PRESIGN_SECONDS',
        `must be a whole number of seconds from 1 to ${MAX_PRESIGN_SECONDS}`,
      );
    }
  }
  return {
    kind: 's3',
    bucket,
    prefix,
    region,
    forcePathStyle,
    presignSeconds,
    skipExisting,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(publicBaseUrl !== undefined ? { publicBaseUrl } : {}),
  };
}

export function createBlobStore(config: StoreConfig): BlobStore {
  if (config.kind === 'local') return new LocalBlobStore(config);
  if (config.kind === 's3') return new S3BlobStore(config);
  throw configError('PIXEL_STORE', `unknown store kind "${(config as { kind: unknown }).kind}"`);
}
