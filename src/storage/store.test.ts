import { mkdtemp, readdir, rm, stat, utimes } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PixelError } from '../protocol/errors.ts';
import { assertSafeKey } from './keys.ts';
import { LocalBlobStore } from './local.ts';
import { S3BlobStore } from './s3.ts';
import { sampleImage, storeContract } from './store.contract.ts';
import { type LocalS3, startLocalS3 } from './testing/s3rver.ts';
import type { BlobStore } from './types.ts';

/** What the server's `/files/<key>` route does, in miniature: validate the key, then serve the blob. */
function filesServer(getStore: () => BlobStore): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const key = decodeURIComponent(path.replace(/^\/files\//, ''));
    (async () => {
      assertSafeKey(key);
      const blob = await getStore().get(key);
      if (!blob) {
        res.writeHead(404).end();
        return;
      }
      res
        .writeHead(200, { 'content-type': blob.mediaType, 'content-length': blob.bytes.length })
        .end(blob.bytes);
    })().catch((error: unknown) => {
      res.writeHead(PixelError.isInstance(error) ? error.httpStatus : 500).end();
    });
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

storeContract('local folder', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pixel-blobs-'));
  let store: BlobStore | undefined;
  const server = filesServer(() => store!);
  store = new LocalBlobStore({ dir, publicBaseUrl: await listen(server) });
  return {
    store,
    async teardown() {
      await closeServer(server);
      await rm(dir, { recursive: true, force: true });
    },
  };
});

storeContract('S3 (AWS SDK v3 against s3rver)', async () => {
  const s3 = await startLocalS3();
  await s3.createBucket('pixel-contract');
  return {
    store: new S3BlobStore(s3.config('pixel-contract', { prefix: 'tenant/a' })),
    teardown: () => s3.close(),
  };
});

describe('local folder store', () => {
  let dir: string;
  let store: LocalBlobStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pixel-blobs-'));
    store = new LocalBlobStore({ dir, publicBaseUrl: 'http://127.0.0.1:8080/' });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes concurrent puts of the same bytes to one file and leaves no temp files', async () => {
    const bytes = await sampleImage(100);
    const puts = await Promise.all(
      Array.from({ length: 16 }, () => store.put(bytes, { mediaType: 'image/png' })),
    );
    expect(new Set(puts.map((p) => p.key)).size).toBe(1);
    const folder = join(dir, ...puts[0]!.key.split('/').slice(0, -1));
    expect(await readdir(folder)).toEqual([puts[0]!.key.split('/').at(-1)]);
  });

  it('builds /files URLs from the public base and keeps files inside its folder', async () => {
    const put = await store.put(await sampleImage(101), { mediaType: 'image/png' });
    expect(put.url).toBe(`http://127.0.0.1:8080/files/${put.key}`);
    expect((await stat(join(dir, put.key))).size).toBe(put.size);
  });

  it('refreshes the modification time of a blob written again, so a racing sweep keeps it', async () => {
    const bytes = await sampleImage(102);
    const { key } = await store.put(bytes, { mediaType: 'image/png' });
    const old = new Date(Date.now() - 24 * 3600_000);
    await utimes(join(dir, key), old, old);
    await store.put(bytes, { mediaType: 'image/png' });
    const listed = [];
    for await (const item of store.list()) if (item.key === key) listed.push(item);
    expect(listed[0]!.lastModified.getTime()).toBeGreaterThan(old.getTime() + 3600_000);
  });

  it('writes again into a folder removed behind its back', async () => {
    const first = await store.put(await sampleImage(103), { mediaType: 'image/png' });
    await rm(join(dir, 'images'), { recursive: true });
    const again = await store.put(await sampleImage(103), { mediaType: 'image/png' });
    expect(again.key).toBe(first.key);
    expect((await stat(join(dir, again.key))).size).toBe(again.size);
  });

  it('writes a large blob (through the thread pool) whole, leaving no temporary file', async () => {
    const small = await sampleImage(104);
    // A PNG header followed by 3 MB: past the size written with blocking calls.
    const big = Buffer.concat([small, Buffer.alloc(3 * 1024 * 1024, 7)]);
    const put = await store.put(big, { mediaType: 'image/png' });
    expect((await store.get(put.key))?.bytes.byteLength).toBe(big.byteLength);
    const folder = join(dir, put.key, '..');
    expect((await readdir(folder)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('lists nothing (and does not fail) before the folder exists', async () => {
    const empty = new LocalBlobStore({ dir: join(dir, 'not-yet'), publicBaseUrl: 'http://x' });
    const keys = [];
    for await (const item of empty.list()) keys.push(item.key);
    expect(keys).toEqual([]);
  });
});

describe('S3 store specifics', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startLocalS3();
    await s3.createBucket('pixel-specifics');
  });
  afterAll(() => s3?.close());

  /** Records the SDK command names a store sends. */
  function recordCommands(store: S3BlobStore): string[] {
    const names: string[] = [];
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        names.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize' },
    );
    return names;
  }

  it('stores the content type and sha256 metadata under the prefix', async () => {
    const store = new S3BlobStore(s3.config('pixel-specifics', { prefix: '/team-x/' }));
    const put = await store.put(await sampleImage(200), { mediaType: 'image/png' });
    const head = await store.client.send(
      new HeadObjectCommand({ Bucket: 'pixel-specifics', Key: `team-x/${put.key}` }),
    );
    expect(head.ContentType).toBe('image/png');
    expect(head.Metadata?.sha256).toBe(put.sha256);
    await store.close();
  });

  it('with skipExisting, skips the upload of an object already there; by default (or when stale) uploads', async () => {
    const bytes = await sampleImage(201);
    const skipping = new S3BlobStore(s3.config('pixel-specifics', { skipExisting: true }));
    const sent = recordCommands(skipping);
    await skipping.put(bytes, { mediaType: 'image/png' });
    await skipping.put(bytes, { mediaType: 'image/png' });
    expect(sent.filter((n) => n === 'PutObjectCommand')).toHaveLength(1);
    expect(sent.filter((n) => n === 'HeadObjectCommand')).toHaveLength(2);

    for (const extra of [{}, { skipExisting: true, refreshAfterMs: 0 }]) {
      const store = new S3BlobStore(s3.config('pixel-specifics', extra));
      const names = recordCommands(store);
      await store.put(bytes, { mediaType: 'image/png' });
      expect(names.filter((n) => n === 'PutObjectCommand')).toHaveLength(1);
      await store.close();
    }
    await skipping.close();
  });

  it('lists only its own keys, without the prefix', async () => {
    const store = new S3BlobStore(s3.config('pixel-specifics', { prefix: 'listing' }));
    const put = await store.put(await sampleImage(202), { mediaType: 'image/png' });
    await store.client.send(
      new PutObjectCommand({
        Bucket: 'pixel-specifics',
        Key: 'listing/images/readme.txt',
        Body: 'not a blob',
      }),
    );
    const keys = [];
    for await (const item of store.list()) keys.push(item.key);
    expect(keys).toEqual([put.key]);
    const raw = await store.client.send(
      new ListObjectsV2Command({ Bucket: 'pixel-specifics', Prefix: 'listing/' }),
    );
    expect(raw.Contents?.map((c) => c.Key).sort()).toEqual([
      `listing/${put.key}`,
      'listing/images/readme.txt',
    ]);
    await store.close();
  });

  it('uses the public base URL when set, else a presigned URL with the configured expiry', async () => {
    const bytes = await sampleImage(203);
    const pub = new S3BlobStore(
      s3.config('pixel-specifics', { prefix: 'p', publicBaseUrl: 'https://cdn.example.com/' }),
    );
    const put = await pub.put(bytes, { mediaType: 'image/png' });
    expect(put.url).toBe(`https://cdn.example.com/p/${put.key}`);
    const signed = new S3BlobStore(s3.config('pixel-specifics', { prefix: 'p', presignSeconds: 120 }));
    const url = new URL(await signed.url(put.key));
    expect(url.searchParams.get('X-Amz-Expires')).toBe('120');
    expect(url.pathname).toBe(`/pixel-specifics/p/${put.key}`);
    await pub.close();
    await signed.close();
  });

  it('maps a missing bucket and an unreachable endpoint onto PixelError codes', async () => {
    const bytes = await sampleImage(204);
    const missing = new S3BlobStore(s3.config('no-such-bucket'));
    const error = await missing.put(bytes, { mediaType: 'image/png' }).catch((e: unknown) => e);
    expect(PixelError.isInstance(error)).toBe(true);
    expect((error as PixelError).code).toBe('failed_precondition');
    await missing.close();

    const server = createServer();
    const endpoint = await listen(server);
    await closeServer(server); // the port is now closed
    const down = new S3BlobStore({ ...s3.config('pixel-specifics'), endpoint });
    const failure = await down.exists(`images/00/11/0011${'a'.repeat(60)}.png`).catch((e: unknown) => e);
    expect(PixelError.isInstance(failure)).toBe(true);
    expect((failure as PixelError).code).toBe('unavailable');
    expect((failure as PixelError).retryable).toBe(true);
    await down.close();
  });

  it('rejects a bad configuration by field', () => {
    const fieldOf = (make: () => unknown) => {
      try {
        make();
      } catch (error) {
        return PixelError.isInstance(error) ? error.field : String(error);
      }
      return 'no error';
    };
    expect(fieldOf(() => new S3BlobStore(s3.config('UPPER')))).toBe('bucket');
    expect(fieldOf(() => new S3BlobStore(s3.config('ok-bucket', { prefix: '../up' })))).toBe('prefix');
    expect(fieldOf(() => new S3BlobStore(s3.config('ok-bucket', { presignSeconds: 0 })))).toBe(
      'presignSeconds',
    );
  });
});
