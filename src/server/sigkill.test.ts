import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type Db, openDatabase } from '../catalog/db.ts';
import { ImageRepo } from '../catalog/images.ts';
import { sweepOrphanBlobs } from '../catalog/sweeper.ts';
import { createTestDatabase } from '../catalog/testing/postgres-server.ts';
import { startOpenAIFake } from '../providers/openai/fake.ts';
import type { FakeServer } from '../providers/testing/types.ts';
import { createBlobStore } from '../storage/config.ts';
import { type LocalS3, S3RVER_CREDENTIALS, startLocalS3 } from '../storage/testing/s3rver.ts';
import type { BlobStore } from '../storage/types.ts';

const CHILD = fileURLToPath(new URL('./testing/serve-child.ts', import.meta.url));
const postgresUrl = inject('postgresUrl');
const TOTAL = 200;
const CONCURRENCY = 16;
const ADMIN_KEY = 'pxl_sigkill_test_admin_key_0123456789abcdef';

interface Child {
  process: ChildProcess;
  url: string;
}

function startChild(env: Record<string, string>): Promise<Child> {
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server child never got ready: ${out} ${err}`));
    }, 120_000);
    child.stderr!.on('data', (c: Buffer) => {
      err = (err + c.toString()).slice(-2000);
    });
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const match = /ready (\S+)\n/.exec(out);
      if (match) {
        clearTimeout(timer);
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({ process: child, url: match[1]! });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server child exited (${code ?? signal}): ${err}`));
    });
  });
}

describe.skipIf(!postgresUrl)('two server processes on one PostgreSQL + S3, one SIGKILLed under load', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  });

  it('loses no answered image and leaves nothing orphaned after the sweeper', {
    timeout: 180_000,
  }, async () => {
    const fake: FakeServer = await startOpenAIFake();
    cleanup.push(() => fake.close());
    const s3: LocalS3 = await startLocalS3();
    cleanup.push(() => s3.close());
    await s3.createBucket('pixel-sigkill');
    const databaseUrl = await createTestDatabase(postgresUrl!);
    const db: Db = await openDatabase({ url: databaseUrl });
    cleanup.push(() => db.close());
    const store: BlobStore = createBlobStore({ kind: 's3', ...s3.config('pixel-sigkill') });

    const env = {
      PIXEL_PORT: '0',
      PIXEL_HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      PIXEL_ADMIN_KEY: ADMIN_KEY,
      PIXEL_STORE: 's3',
      PIXEL_S3_BUCKET: 'pixel-sigkill',
      PIXEL_S3_ENDPOINT: s3.endpoint,
      PIXEL_S3_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      OPENAI_API_KEY: fake.apiKey,
      OPENAI_BASE_URL: fake.url,
      PIXEL_SWEEP_INTERVAL_MS: '0',
      PIXEL_LOG_LEVEL: 'warn',
      PIXEL_SHUTDOWN_TIMEOUT_MS: '5000',
    };
    const [a, b] = await Promise.all([startChild(env), startChild(env)]);
    cleanup.push(async () => a.process.kill('SIGKILL'));
    cleanup.push(async () => b.process.kill('SIGKILL'));

    const answered: string[] = [];
    let ok = 0;
    let failed = 0;
    let killed = false;
    let next = 0;
    const killAfter = 60;
    const oneRequest = async (i: number) => {
      // Alternate between the servers; once A is dead, everything goes to B.
      const target = !killed && i % 2 === 0 ? a : b;
      try {
        const res = await fetch(`${target.url}/v1/images/generations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
          body: JSON.stringify({
            model: 'openai/gpt-image-1.5',
            prompt: `a jar of honey, take ${i}`,
            size: '1024x1024',
            quality: 'low',
            response_format: 'url',
          }),
          signal: AbortSignal.timeout(20_000),
        });
        const body = (await res.json()) as { pixel?: { images?: string[] } };
        if (res.status === 200) {
          ok++;
          answered.push(...(body.pixel?.images ?? []));
        } else failed++;
      } catch {
        failed++;
      }
      if (!killed && ok + failed >= killAfter) {
        killed = true;
        a.process.kill('SIGKILL');
      }
    };
    const worker = async () => {
      // Bounded: each worker takes request numbers until TOTAL have been sent.
      for (let i = next++; i < TOTAL; i = next++) await oneRequest(i);
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const loadMs = performance.now() - started;
    expect(killed).toBe(true);
    expect(ok + failed).toBe(TOTAL);

    // B shuts down cleanly; then look at what is stored.
    b.process.kill('SIGTERM');
    await new Promise((r) => b.process.once('exit', r));

    const rows = await db.query<{ id: string; blob_key: string }>('SELECT id, blob_key FROM images');
    const rowKeys = new Set(rows.map((r) => r.blob_key));
    const blobsBefore: string[] = [];
    for await (const listing of store.list()) blobsBefore.push(listing.key);
    const providerCalls = fake.requests.filter((r) => r.path.endsWith('/images/generations')).length;

    // Nothing lost: every answered image has its row, and every row its blob.
    const rowIds = new Set(rows.map((r) => r.id));
    expect(answered.filter((id) => !rowIds.has(id))).toEqual([]);
    const blobSet = new Set(blobsBefore);
    expect([...rowKeys].filter((key) => !blobSet.has(key))).toEqual([]);

    const swept = await sweepOrphanBlobs({ store, images: new ImageRepo(db), olderThanMs: 0 });
    const blobsAfter: string[] = [];
    for await (const listing of store.list()) blobsAfter.push(listing.key);
    // Nothing orphaned: after the sweeper, the blobs are exactly the rows' blobs.
    expect(new Set(blobsAfter)).toEqual(rowKeys);
    expect(rows.length).toBeGreaterThanOrEqual(answered.length);
    expect(providerCalls).toBeGreaterThanOrEqual(rows.length);

    const counts = {
      requests: TOTAL,
      ok,
      failed,
      answeredImages: answered.length,
      rows: rows.length,
      blobsBeforeSweep: blobsBefore.length,
      orphansSwept: swept.deleted,
      blobsAfterSweep: blobsAfter.length,
      providerCalls,
      loadMs: Math.round(loadMs),
    };
    console.log(`sigkill counts ${JSON.stringify(counts)}`);
  });
});
