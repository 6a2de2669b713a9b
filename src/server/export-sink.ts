import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { ExportSink } from '../catalog/export/snowflake.ts';
import { invalidArgument, PixelError } from '../protocol/errors.ts';
import { LocalBlobStore } from '../storage/local.ts';
import { S3BlobStore } from '../storage/s3.ts';
import type { BlobStore } from '../storage/types.ts';

const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Export keys are `prefix/…/name.ext`: plain segments only, never `.`/`..`, and never the store's own `images/`. */
function checkKey(key: string): void {
  const parts = key.split('/');
  if (parts.some((p) => !SEGMENT.test(p) || p === '.' || p === '..')) {
    throw invalidArgument(
      'prefix',
      `"${key}" is not a safe object key (letters, digits, ".", "_", "-" segments)`,
    );
  }
  if (parts[0] === 'images')
    throw invalidArgument('prefix', 'must not start with "images/", the blob store\'s own folder');
}

/**
 * Where `pixel export snowflake` lands its files: next to the images of the configured blob store (the
 * bucket and folder for S3, the data folder for the local store). The BlobStore contract only takes
 * content-addressed images, so this writes through the store's own client / folder instead.
 */
export function exportSinkFor(store: BlobStore): ExportSink {
  if (store instanceof S3BlobStore) {
    return {
      async put(key, bytes, contentType) {
        checkKey(key);
        await store.client.send(
          new PutObjectCommand({
            Bucket: store.bucket,
            Key: store.prefix + key,
            Body: bytes,
            ContentType: contentType,
          }),
        );
      },
    };
  }
  if (store instanceof LocalBlobStore) {
    const root = resolve(store.dir);
    return {
      async put(key, bytes) {
        checkKey(key);
        const path = join(root, ...key.split('/'));
        if (!path.startsWith(root + sep)) throw invalidArgument('prefix', 'escapes the store folder');
        await mkdir(dirname(path), { recursive: true });
        // Temp file + rename: a reader (or Snowpipe's copy of the folder) never sees half a batch.
        const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
        try {
          await writeFile(tmp, bytes);
          await rename(tmp, path);
        } catch (error) {
          await rm(tmp, { force: true });
          throw error;
        }
      },
    };
  }
  throw new PixelError({
    code: 'unimplemented',
    field: 'PIXEL_STORE',
    message: `no export sink for a ${store.kind} store`,
  });
}
