import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DatasetRepo } from '../catalog/datasets.ts';
import { createTestDatabase } from '../catalog/testing/postgres-server.ts';
import { parseDataset } from '../datasets/parse.ts';
import { startOpenAIFake } from '../providers/openai/fake.ts';
import type { FakeServer } from '../providers/testing/types.ts';
import type { Caller } from '../server/image-service.ts';
import { type JobSystem, startJobSystem } from './system.ts';
import { type CountingProxy, startCountingProxy, tempPlatform, waitFor } from './testing.ts';

const postgresUrl = inject('postgresUrl');
const BIN = fileURLToPath(new URL('../../bin/pixel.mjs', import.meta.url));
const caller: Caller = { team: 'grocery', role: 'member' };
const ITEMS = 40;
const WORKER_CONCURRENCY = 4;

let fake: FakeServer;
/** In front of the fake: counts the generations open at the provider at once. */
let proxy: CountingProxy;
let env: Awaited<ReturnType<typeof tempPlatform>>;
let jobs: JobSystem;
let workerEnv: Record<string, string>;
const children: ChildProcess[] = [];

function startWorker(extraEnv: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'worker', '--concurrency', String(WORKER_CONCURRENCY)], {
    env: { ...process.env, ...workerEnv, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${stderr}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}: ${stderr}`));
    });
  });
}

const generations = () => fake.requests.filter((r) => r.path === '/v1/images/generations').length;

describe.skipIf(!postgresUrl)('batches on PostgreSQL with two worker processes', () => {
  beforeAll(async () => {
    fake = await startOpenAIFake();
    proxy = await startCountingProxy(fake.url, (path) => path.startsWith('/v1/images/generations'));
    const databaseUrl = await createTestDatabase(postgresUrl!);
    workerEnv = {
      DATABASE_URL: databaseUrl,
      OPENAI_API_KEY: fake.apiKey,
      OPENAI_BASE_URL: proxy.url,
      PIXEL_JOB_LEASE_SECONDS: '3',
      PIXEL_JOB_SUPERVISE_SECONDS: '1',
      // Every provider failure reaches the batch layer (no in-process retries), which honours the wait.
      PIXEL_OPENAI_MAX_ATTEMPTS: '1',
      PIXEL_OPENAI_RPM: '600',
      PIXEL_LOG_LEVEL: 'error',
    };
    env = await tempPlatform(workerEnv);
    workerEnv.PIXEL_DATA_DIR = env.dir;
    jobs = await startJobSystem(env.platform, { worker: false });
    const rows = [
      'sku,item,count',
      ...Array.from({ length: ITEMS }, (_, i) => `sku-${i},item number ${i},one`),
    ];
    await new DatasetRepo(env.platform.db).create({
      team: 'grocery',
      name: 'big',
      source: 'big.csv',
      parsed: parseDataset(rows.join('\n'), 'csv'),
    });
  }, 120_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await jobs?.stop(1_000);
    await env?.close();
    await proxy?.close();
    await fake?.close();
  });

  it('a worker killed with SIGKILL mid-run: its cells are taken up after their lease; nothing lost or done twice', async () => {
    fake.reset();
    fake.inject({ kind: 'slow', times: 10_000, delayMs: 150 });
    const [a, b] = await Promise.all([startWorker(), startWorker()]);
    const run = await jobs.batches.startRun(
      {
        dataset: 'big',
        application: 'produce',
        candidate: { model: 'openai/gpt-image-1-mini', overrides: { quality: 'draft' } },
      },
      caller,
    );
    await waitFor(
      'a quarter of the run',
      async () => (await jobs.batches.progress(run.id, caller)).done >= ITEMS / 4,
      {
        timeoutMs: 60_000,
      },
    );
    a.kill('SIGKILL');
    const progress = await waitFor(
      'the run to finish on the surviving worker',
      async () => {
        const p = await jobs.batches.progress(run.id, caller);
        return p.state === 'done' && p;
      },
      { timeoutMs: 150_000, everyMs: 250 },
    );
    expect(progress).toMatchObject({ total: ITEMS, done: ITEMS, failed: 0, remaining: 0 });
    const cells = await jobs.batches.runs.cells(run.id);
    expect(cells.every((c) => c.state === 'done' && c.imageIds.length === 1)).toBe(true);
    // One image row per cell, no more: counted by the catalogue.
    const rows = await env.platform.db.query<{ n: string; keys: string }>(
      `SELECT count(*) AS n, count(DISTINCT idempotency_key) AS keys FROM images WHERE idempotency_key LIKE $1`,
      [`batch:${run.id}:%`],
    );
    expect(Number(rows[0]!.n)).toBe(ITEMS);
    expect(Number(rows[0]!.keys)).toBe(ITEMS);
    // Counted by the provider: every cell paid once, except at most the calls in flight in the killed worker.
    const calls = generations();
    expect(calls).toBeGreaterThanOrEqual(ITEMS);
    expect(calls - ITEMS).toBeLessThanOrEqual(WORKER_CONCURRENCY);
    // Every image has its cost recorded; the run's cost is their sum.
    const cost = await env.platform.db.query<{ s: string }>(
      'SELECT sum(cost_usd) AS s FROM images WHERE idempotency_key LIKE $1',
      [`batch:${run.id}:%`],
    );
    expect(progress.costUsd).toBeCloseTo(Number(cost[0]!.s), 6);
    expect(progress.costUsd).toBeGreaterThan(0);
    b.kill('SIGTERM');
  }, 240_000);

  it('bursts of 429 (with Retry-After) and 5xx: the workers back off together and the run finishes, each cell paid once', async () => {
    fake.reset();
    const [a, b] = await Promise.all([startWorker(), startWorker()]);
    const items = 20;
    const rows = ['sku,item', ...Array.from({ length: items }, (_, i) => `b-${i},burst item ${i}`)];
    await new DatasetRepo(env.platform.db).create({
      team: 'grocery',
      name: 'burst',
      source: 'burst.csv',
      parsed: parseDataset(rows.join('\n'), 'csv'),
    });
    fake.inject({ kind: 'rate_limit', times: 6, retryAfterMs: 1_000 });
    fake.inject({ kind: 'server_error', times: 4, status: 503 });
    const run = await jobs.batches.startRun(
      {
        dataset: 'burst',
        application: 'produce',
        candidate: { model: 'openai/gpt-image-1-mini', overrides: {} },
      },
      caller,
    );
    const progress = await waitFor(
      'the run to finish through the faults',
      async () => {
        const p = await jobs.batches.progress(run.id, caller);
        return p.state === 'done' && p;
      },
      { timeoutMs: 150_000, everyMs: 250 },
    );
    expect(progress).toMatchObject({ total: items, done: items, failed: 0 });
    // Each faulted call paid nothing and was retried once more: exactly items + 10 calls, one image per cell.
    expect(generations()).toBe(items + 10);
    const count = await env.platform.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM images WHERE idempotency_key LIKE $1',
      [`batch:${run.id}:%`],
    );
    expect(Number(count[0]!.n)).toBe(items);
    // The provider's wait was shared through the database's bucket.
    const bucket = await env.platform.db.query<{ blocked_until_ms: string }>(
      "SELECT blocked_until_ms FROM provider_buckets WHERE provider = 'openai'",
    );
    expect(Number(bucket[0]!.blocked_until_ms)).toBeGreaterThan(0);
    a.kill('SIGTERM');
    b.kill('SIGTERM');
  }, 240_000);

  it('per-provider concurrency holds across all workers (shared slots), not per process: counted at the provider', async () => {
    fake.reset();
    proxy.reset();
    fake.inject({ kind: 'slow', times: 1_000, delayMs: 300 });
    // Each process alone would allow 2 at once (4 for the two); the group limit allows 2 in all.
    const extra = { PIXEL_OPENAI_CONCURRENCY: '2' };
    const [a, b] = await Promise.all([startWorker(extra), startWorker(extra)]);
    const items = 12;
    const rows = ['sku,item', ...Array.from({ length: items }, (_, i) => `g-${i},group item ${i}`)];
    await new DatasetRepo(env.platform.db).create({
      team: 'grocery',
      name: 'groups',
      source: 'groups.csv',
      parsed: parseDataset(rows.join('\n'), 'csv'),
    });
    const run = await jobs.batches.startRun(
      {
        dataset: 'groups',
        application: 'produce',
        candidate: { model: 'openai/gpt-image-1-mini', overrides: {} },
      },
      caller,
    );
    const progress = await waitFor(
      'the run to finish',
      async () => {
        const p = await jobs.batches.progress(run.id, caller);
        return p.state === 'done' && p;
      },
      { timeoutMs: 120_000, everyMs: 100 },
    );
    expect(progress).toMatchObject({ done: items, failed: 0 });
    // The provider saw every cell once, never more than 2 at a time (the proxy counts open requests).
    expect(generations()).toBe(items);
    expect(proxy.most).toBeGreaterThanOrEqual(1);
    expect(proxy.most).toBeLessThanOrEqual(2);
    a.kill('SIGTERM');
    b.kill('SIGTERM');
  }, 240_000);
});
