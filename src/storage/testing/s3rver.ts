import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import type { S3StoreConfig } from '../s3.ts';

/** s3rver's fixed credentials. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface LocalS3 {
  endpoint: string;
  /** Store settings for a bucket on this server (path style, s3rver credentials). */
  config(bucket: string, extra?: Partial<S3StoreConfig>): S3StoreConfig;
  createBucket(bucket: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts s3rver (an S3-compatible server in Node) on 127.0.0.1 with an OS-chosen port and a temp
 * folder, for tests and benchmarks. `close()` stops it and removes the folder.
 */
/** `parent`: where its bucket folders go (default: the system temp folder). */
export async function startLocalS3(parent: string = tmpdir()): Promise<LocalS3> {
  const directory = await mkdtemp(join(parent, 'pixel-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const config = (bucket: string, extra: Partial<S3StoreConfig> = {}): S3StoreConfig => ({
    bucket,
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    ...extra,
  });
  return {
    endpoint,
    config,
    async createBucket(bucket) {
      const client = new S3Client({
        region: 'us-east-1',
        endpoint,
        forcePathStyle: true,
        credentials: S3RVER_CREDENTIALS,
      });
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
      } finally {
        client.destroy();
      }
    },
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
