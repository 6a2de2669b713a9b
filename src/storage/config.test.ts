import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PixelError } from '../protocol/errors.ts';
import { createBlobStore, STORE_ENV_VARS, storeConfigFromEnv } from './config.ts';

function fieldOf(make: () => unknown): string | undefined {
  try {
    make();
  } catch (error) {
    if (!PixelError.isInstance(error)) throw error;
    expect(error.code).toBe('invalid_argument');
    return error.field;
  }
  return 'no error';
}

describe('storeConfigFromEnv', () => {
  it('defaults to a local folder under ./data/blobs served from the given public URL', () => {
    expect(storeConfigFromEnv({})).toEqual({
      kind: 'local',
      dir: join('data', 'blobs'),
      publicBaseUrl: 'http://127.0.0.1:8080',
    });
    expect(storeConfigFromEnv({}, { publicUrl: 'http://localhost:9000/' })).toMatchObject({
      publicBaseUrl: 'http://localhost:9000',
    });
    expect(
      storeConfigFromEnv({ PIXEL_DATA_DIR: '/var/pixel', PIXEL_PUBLIC_URL: 'https://pixel.example.com/' }),
    ).toEqual({
      kind: 'local',
      dir: join('/var/pixel', 'blobs'),
      publicBaseUrl: 'https://pixel.example.com',
    });
  });

  it('reads every S3 setting', () => {
    const config = storeConfigFromEnv({
      PIXEL_STORE: 's3',
      PIXEL_S3_BUCKET: 'images-prod',
      PIXEL_S3_PREFIX: '/pixel/v1/',
      PIXEL_S3_REGION: 'eu-west-1',
      PIXEL_S3_ENDPOINT: 'http://127.0.0.1:9000',
      PIXEL_S3_FORCE_PATH_STYLE: 'false',
      PIXEL_S3_PUBLIC_BASE_URL: 'https://cdn.example.com/',
      PIXEL_S3_PRESIGN_SECONDS: '600',
      PIXEL_S3_HEAD_BEFORE_PUT: 'yes',
    });
    expect(config).toEqual({
      kind: 's3',
      bucket: 'images-prod',
      prefix: 'pixel/v1/',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: false,
      publicBaseUrl: 'https://cdn.example.com',
      presignSeconds: 600,
      skipExisting: true,
    });
  });

  it('turns path style on by default only with a custom endpoint, and falls back to AWS_REGION', () => {
    expect(storeConfigFromEnv({ PIXEL_STORE: 's3', PIXEL_S3_BUCKET: 'abc' })).toMatchObject({
      forcePathStyle: false,
      region: 'us-east-1',
      presignSeconds: 3600,
      prefix: '',
      skipExisting: false,
    });
    expect(
      storeConfigFromEnv({
        PIXEL_STORE: 's3',
        PIXEL_S3_BUCKET: 'abc',
        PIXEL_S3_ENDPOINT: 'http://minio:9000',
        AWS_REGION: 'ap-south-1',
      }),
    ).toMatchObject({ forcePathStyle: true, region: 'ap-south-1' });
  });

  it('names the variable at fault', () => {
    const s3 = { PIXEL_STORE: 's3', PIXEL_S3_BUCKET: 'abc' };
    expect(fieldOf(() => storeConfigFromEnv({ PIXEL_STORE: 'gcs' }))).toBe('PIXEL_STORE');
    expect(fieldOf(() => storeConfigFromEnv({ PIXEL_PUBLIC_URL: 'not a url' }))).toBe('PIXEL_PUBLIC_URL');
    expect(fieldOf(() => storeConfigFromEnv({ PIXEL_PUBLIC_URL: 'ftp://x' }))).toBe('PIXEL_PUBLIC_URL');
    expect(fieldOf(() => storeConfigFromEnv({ PIXEL_STORE: 's3' }))).toBe('PIXEL_S3_BUCKET');
    expect(fieldOf(() => storeConfigFromEnv({ ...s3, PIXEL_S3_BUCKET: 'Bad_Bucket' }))).toBe(
      'PIXEL_S3_BUCKET',
    );
    expect(fieldOf(() => storeConfigFromEnv({ ...s3, PIXEL_S3_PREFIX: 'a/../b' }))).toBe('PIXEL_S3_PREFIX');
    expect(fieldOf(() => storeConfigFromEnv({ ...s3, PIXEL_S3_REGION: 'EU West' }))).toBe('PIXEL_S3_REGION');
    expect(fieldOf(() => storeConfigFromEnv({ ...s3, PIXEL_S3_ENDPOINT: 'minio:9000' }))).toBe(
      'PIXEL_S3_ENDPOINT',
    );
    expect(fieldOf(() => storeConfigFromEnv({ ...s3, PIXEL_S3_FORCE_PATH_STYLE: 'maybe' }))).toBe(
      'PIXEL_S3_FORCE_PATH_STYLE',
    );
    expect(fieldOf(() => storeConfigFromEnv({ ...s3, PIXEL_S3_PUBLIC_BASE_URL: 'https://u:p@cdn' }))).toBe(
      'PIXEL_S3_PUBLIC_BASE_URL',
    );
    expect(fieldOf(() => storeConfigFromEnv({ ...s3, PIXEL_S3_HEAD_BEFORE_PUT: '2' }))).toBe(
      'PIXEL_S3_HEAD_BEFORE_PUT',
    );
    for (const bad of ['0', '604801', '1.5', '-3', 'soon']) {
      expect(fieldOf(() => storeConfigFromEnv({ ...s3, PIXEL_S3_PRESIGN_SECONDS: bad }))).toBe(
        'PIXEL_S3_PRESIGN_SECONDS',
      );
    }
  });

  it('never echoes credentials from a URL into the error', () => {
    try {
      storeConfigFromEnv({
        PIXEL_STORE: 's3',
        PIXEL_S3_BUCKET: 'abc',
        PIXEL_S3_PUBLIC_BASE_URL: 'https://key:s3cr3tvalue@cdn',
      });
    } catch (error) {
      expect((error as Error).message).not.toContain('s3cr3tvalue');
      return;
    }
    throw new Error('expected an error');
  });

  it('documents every PIXEL_ variable it reads', async () => {
    const { readFile } = await import('node:fs/promises');
    const source = await readFile(new URL('./config.ts', import.meta.url), 'utf8');
    const read = new Set(source.match(/env\.(PIXEL_[A-Z0-9_]+)/g)?.map((m) => m.slice(4)));
    const documented = new Set(STORE_ENV_VARS.map((v) => v.name));
    expect([...read].filter((name) => !documented.has(name))).toEqual([]);
  });
});

describe('createBlobStore', () => {
  it('builds the store the config names', async () => {
    const local = createBlobStore(storeConfigFromEnv({ PIXEL_DATA_DIR: '/tmp/pixel-config-test' }));
    expect(local.kind).toBe('local');
    const s3 = createBlobStore(
      storeConfigFromEnv({
        PIXEL_STORE: 's3',
        PIXEL_S3_BUCKET: 'abc',
        PIXEL_S3_PUBLIC_BASE_URL: 'https://cdn.example.com',
      }),
    );
    expect(s3.kind).toBe('s3');
    expect(await s3.url(`images/ab/cd/abcd${'0'.repeat(60)}.png`)).toBe(
      `https://cdn.example.com/images/ab/cd/abcd${'0'.repeat(60)}.png`,
    );
    await local.close();
    await s3.close();
  });
});
