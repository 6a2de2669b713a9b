import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { invalidArgument } from '../protocol/errors.ts';
import { assertSafeKey, checkPut, KEY_PATTERN, mediaTypeForKey } from './keys.ts';
import { isS3NotFound, s3Error } from './s3-errors.ts';
import type { BlobListing, BlobStore, StoredBlob } from './types.ts';

export interface S3StoreConfig {
  bucket: string;
  /** Folder inside the bucket, e.g. `pixel/`; objects are `<prefix>images/ab/cd/<sha256>.png`. */
  prefix?: string;
  region?: string;
  /** S3-compatible endpoint (MinIO, R2, s3rver); omit for AWS. */
  endpoint?: string;
  forcePathStyle?: boolean;
  /** Base URL that maps to the bucket root (CDN or public bucket); without it URLs are presigned. */
  publicBaseUrl?: string;
  /** Presigned GET URL lifetime; 1 s to 7 days (S3's limit). */
  presignSeconds?: number;
  /** Explicit credentials; when absent the SDK's default chain (env, profile, IMDS, …) is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /**
   * HEAD before PUT and skip the upload when the object is already there. Off by default: measured in
   * bench/storage.bench.ts, the HEAD slows every new blob to save an upload only on duplicates, and
   * generated images are almost always new. Turn it on for workloads that re-store the same bytes.
   */
  skipExisting?: boolean;
  /**
   * An existing object older than this is uploaded again anyway, which refreshes LastModified so an
   * orphan sweep (grace period longer than this) cannot delete a blob a new row is about to reference.
   */
  refreshAfterMs?: number;
}

export const DEFAULT_PRESIGN_SECONDS = 3600;
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
export const DEFAULT_REFRESH_AFTER_MS = 60 * 60 * 1000;

/** Blobs in an S3-compatible bucket through the AWS SDK v3. */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  readonly #publicBase: string | undefined;
  readonly #presignSeconds: number;
  readonly #skipExisting: boolean;
  readonly #refreshAfterMs: number;

  constructor(config: S3StoreConfig) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(config.bucket ?? '')) {
      throw invalidArgument(
        'bucket',
        'must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)',
      );
    }
    this.bucket = config.bucket;
    this.prefix = normalizePrefix(config.prefix ?? '');
    this.#publicBase = config.publicBaseUrl?.replace(/\/+$/, '') || undefined;
    this.#presignSeconds = config.presignSeconds ?? DEFAULT_PRESIGN_SECONDS;
    if (
      !Number.isInteger(this.#presignSeconds) ||
      this.#presignSeconds < 1 ||
      this.#presignSeconds > MAX_PRESIGN_SECONDS
    ) {
      throw invalidArgument('presignSeconds', `must be an integer from 1 to ${MAX_PRESIGN_SECONDS}`);
    }
    this.#skipExisting = config.skipExisting ?? false;
    this.#refreshAfterMs = config.refreshAfterMs ?? DEFAULT_REFRESH_AFTER_MS;
    this.client = new S3Client({
      region: config.region ?? 'us-east-1',
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle ?? false,
      ...(config.credentials ? { credentials: config.credentials } : {}),
    });
  }

  #objectKey(key: string): string {
    assertSafeKey(key);
    return this.prefix + key;
  }

  async put(bytes: Uint8Array, opts: { mediaType: string }): Promise<StoredBlob> {
    const { sha256, key, mediaType } = checkPut(bytes, opts?.mediaType);
    const Key = this.#objectKey(key);
    if (!(this.#skipExisting && (await this.#isFresh(Key, bytes.length)))) {
      try {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key,
            Body: bytes,
            ContentType: mediaType,
            ContentLength: bytes.length,
            // Immutable content: caches may keep it forever.
            CacheControl: 'public, max-age=31536000, immutable',
            Metadata: { sha256 },
          }),
        );
      } catch (error) {
        throw s3Error('put', this.bucket, error);
      }
    }
    return { key, sha256, size: bytes.length, mediaType, url: await this.url(key) };
  }

  /** Present with the right size and written recently enough that a sweep cannot take it. */
  async #isFresh(Key: string, size: number): Promise<boolean> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      const age = Date.now() - (head.LastModified?.getTime() ?? 0);
      return head.ContentLength === size && age < this.#refreshAfterMs;
    } catch (error) {
      if (isS3NotFound(error)) return false;
      throw s3Error('head', this.bucket, error);
    }
  }

  async get(key: string): Promise<{ bytes: Uint8Array; mediaType: string } | undefined> {
    const Key = this.#objectKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      const bytes = out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
      return { bytes, mediaType: mediaTypeForKey(key) };
    } catch (error) {
      if (isS3NotFound(error)) return undefined;
      throw s3Error('get', this.bucket, error);
    }
  }

  async exists(key: string): Promise<boolean> {
    const Key = this.#objectKey(key);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return true;
    } catch (error) {
      if (isS3NotFound(error)) return false;
      throw s3Error('head', this.bucket, error);
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.#objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (error) {
      if (!isS3NotFound(error)) throw s3Error('delete', this.bucket, error);
    }
  }

  async *list(): AsyncIterable<BlobListing> {
    const pages = paginateListObjectsV2(
      { client: this.client, pageSize: 1000 },
      { Bucket: this.bucket, Prefix: `${this.prefix}images/` },
    );
    try {
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          const key = object.Key?.slice(this.prefix.length) ?? '';
          if (!KEY_PATTERN.test(key)) continue; // not one of ours
          yield { key, lastModified: object.LastModified ?? new Date(0), size: object.Size ?? 0 };
        }
      }
    } catch (error) {
      throw s3Error('list', this.bucket, error);
    }
  }

  async url(key: string): Promise<string> {
    const Key = this.#objectKey(key);
    if (this.#publicBase !== undefined) return `${this.#publicBase}/${Key}`;
    try {
      return await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key }), {
        expiresIn: this.#presignSeconds,
      });
    } catch (error) {
      throw s3Error('presign', this.bucket, error);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

/** `a/b` → `a/b/`; empty stays empty; refuses traversal and odd characters. */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  if (
    !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(trimmed) ||
    trimmed.split('/').some((p) => p === '..' || p === '.')
  ) {
    throw invalidArgument(
      'prefix',
      'must be folder names of letters, digits, ".", "_", "-" separated by "/"',
    );
  }
  return `${trimmed}/`;
}
