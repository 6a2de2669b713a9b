import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { DatasetRepo } from '../src/catalog/datasets.ts';
import {
  createTestDatabase,
  findPostgresBin,
  startPostgres,
} from '../src/catalog/testing/postgres-server.ts';
import { parseDataset } from '../src/datasets/parse.ts';
import { type JobSystem, startJobSystem } from '../src/jobs/system.ts';
import { composePlatform, type Platform } from '../src/platform/compose.ts';
import { platformConfigFromEnv } from '../src/platform/config.ts';
import { benchDataDir } from './data-dir.ts';
import { type BenchSection, round } from './types.ts';

/**
 * Batch throughput against a provider's rate limit. A fake OpenAI-shaped provider allows R requests per
 * minute (a token bucket of one second's worth; over it: 429 with Retry-After, as OpenAI answers) and takes
 * L ms per request. A 2,000-item production run goes through the queue with two workers (two `pixel worker`
 * processes on PostgreSQL; two in-process workers on PGlite). Reported: achieved throughput ÷ R (floor 0.95),
 * lost and duplicated images (must be 0), 429s seen, and the queue's overhead per job (the same jobs with an
 * unlimited, zero-latency provider: queue path vs calling the image service directly, ms per image).
 */
const ITEMS = Number(process.env.BATCH_BENCH_ITEMS ?? 2000);
const RPM = Number(process.env.BATCH_BENCH_RPM ?? 1200);
const LATENCY_MS = Number(process.env.BATCH_BENCH_LATENCY_MS ?? 250);
const OVERHEAD_JOBS = 300;
const BIN = fileURLToPath(new URL('../bin/pixel.mjs', import.meta.url));
const API_KEY = 'sk-bench-batch-0000';

interface LimitedFake {
  url: string;
  ok: number;
  limited: number;
  /** First and last successful request times (ms). */
  first: number;
  last: number;
  reset(): void;
  close(): Promise<void>;
}

async function startLimitedFake(rpm: number, latencyMs: number): Promise<LimitedFake> {
  const png = await sharp({ create: { width: 1024, height: 1024, channels: 3, background: '#c8a27a' } })
    .png()
    .toBuffer();
  const b64 = png.toString('base64');
  const perMs = rpm > 0 ? rpm / 60_000 : Number.POSITIVE_INFINITY;
  const capacity = Math.max(1, Math.ceil(rpm / 60));
  let tokens = capacity;
  let at = Date.now();
  const state = { ok: 0, limited: 0, first: 0, last: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.headers.authorization !== `Bearer ${API_KEY}`) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } }),
        );
        return;
      }
      const now = Date.now();
      if (Number.isFinite(perMs)) {
        tokens = Math.min(capacity, tokens + (now - at) * perMs);
        at = now;
      }
      if (Number.isFinite(perMs) && tokens < 1) {
        state.limited++;
        const waitMs = Math.ceil((1 - tokens) / perMs);
        res.writeHead(429, {
          'content-type': 'application/json',
          'retry-after-ms': String(waitMs),
          'retry-after': String(Math.ceil(waitMs / 1000)),
        });
        res.end(
          JSON.stringify({
            error: {
              message: 'Rate limit reached for images per minute',
              type: 'requests',
              code: 'rate_limit_exceeded',
            },
          }),
        );
        return;
      }
      if (Number.isFinite(perMs)) tokens -= 1;
      setTimeout(() => {
        state.ok++;
        const done = Date.now();
        if (state.first === 0) state.first = done;
        state.last = done;
        res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': `req_${state.ok}` });
        res.end(
          JSON.stringify({
            created: Math.floor(done / 1000),
            data: [{ b64_json: b64 }],
            background: 'opaque',
            output_format: 'png',
            size: '1024x1024',
            quality: 'low',
          }),
        );
      }, latencyMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get ok() {
      return state.ok;
    },
    get limited() {
      return state.limited;
    },
    get first() {
      return state.first;
    },
    get last() {
      return state.last;
    },
    reset() {
      Object.assign(state, { ok: 0, limited: 0, first: 0, last: 0 });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const caller = { team: 'bench', role: 'member' as const };

async function dataset(platform: Platform, name: string, n: number): Promise<void> {
  const rows = ['sku,item', ...Array.from({ length: n }, (_, i) => `${name}-${i},bench item ${i}`)];
  await new DatasetRepo(platform.db).create({
    team: 'bench',
    name,
    source: `${name}.csv`,
    parsed: parseDataset(rows.join('\n'), 'csv'),
  });
}

async function waitDone(jobs: JobSystem, id: string, maxMs: number) {
  const rounds = Math.ceil(maxMs / 250);
  for (let i = 0; i < rounds; i++) {
    const p = await jobs.batches.progress(id, caller);
    if (p.state !== 'running') return p;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return jobs.batches.progress(id, caller);
}

async function countImages(platform: Platform, runId: string) {
  const rows = await platform.db.query<{ n: string; keys: string }>(
    'SELECT count(*) AS n, count(DISTINCT idempotency_key) AS keys FROM images WHERE idempotency_key LIKE $1',
    [`batch:${runId}:%`],
  );
  return { images: Number(rows[0]!.n), cells: Number(rows[0]!.keys) };
}

function spawnWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'worker'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited ${code}: ${err}`)));
  });
}

async function measure(
  profile: string,
  platform: Platform,
  jobs: JobSystem,
  fake: LimitedFake,
): Promise<Record<string, string | number>> {
  const name = `rate-${profile.split(/[ ,]/)[0]!.toLowerCase()}`;
  await dataset(platform, name, ITEMS);
  fake.reset();
  const started = Date.now();
  const run = await jobs.batches.startRun(
    {
      dataset: name,
      application: 'produce',
      candidate: { model: 'openai/gpt-image-1-mini', overrides: { quality: 'draft' } },
    },
    caller,
  );
  const progress = await waitDone(jobs, run.id, Math.max(120_000, (ITEMS / RPM) * 60_000 * 3));
  const wall = Date.now() - started;
  const counted = await countImages(platform, run.id);
  // Throughput over the run's span at the provider (first to last success), per minute.
  const spanMin = Math.max(1, fake.last - fake.first) / 60_000;
  const achieved = (fake.ok - 1) / spanMin;
  return {
    profile,
    items: ITEMS,
    'R (rpm)': RPM,
    'L (ms)': LATENCY_MS,
    'achieved rpm': round(achieved, 0),
    'achieved ÷ R': round(achieved / RPM, 3),
    'floor 0.95': achieved / RPM >= 0.95 ? 'met' : 'MISSED',
    lost: ITEMS - progress.done,
    duplicated: counted.images - counted.cells,
    'provider 429s': fake.limited,
    'wall s': round(wall / 1000, 1),
  };
}

/** ms per image at saturation: the queue path vs the image service called directly, same provider (no limit, L=0). */
async function overhead(platform: Platform, jobs: JobSystem, fast: LimitedFake, profile: string) {
  const name = `overhead-${profile.toLowerCase()}`;
  await dataset(platform, name, OVERHEAD_JOBS);
  const concurrency = 16;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < OVERHEAD_JOBS) {
        const i = next++;
        await platform.images.generateAndStore(
          {
            model: 'openai/gpt-image-1-mini',
            quality: 'draft',
            app: 'produce',
            vars: { item: `direct ${profile} ${i}` },
          },
          caller,
        );
      }
    }),
  );
  const directMs = (performance.now() - t0) / OVERHEAD_JOBS;
  const t1 = performance.now();
  const run = await jobs.batches.startRun(
    {
      dataset: name,
      application: 'produce',
      candidate: { model: 'openai/gpt-image-1-mini', overrides: { quality: 'draft' } },
    },
    caller,
  );
  await waitDone(jobs, run.id, 300_000);
  const queuedMs = (performance.now() - t1) / OVERHEAD_JOBS;
  void fast;
  return {
    profile,
    jobs: OVERHEAD_JOBS,
    'direct ms/image': round(directMs, 2),
    'queued ms/image': round(queuedMs, 2),
    'queue overhead ms/job': round(queuedMs - directMs, 2),
  };
}

export async function bench(): Promise<BenchSection> {
  const rows: Array<Record<string, string | number>> = [];
  const overheadRows: Array<Record<string, string | number>> = [];
  const notes: string[] = [];
  const limited = await startLimitedFake(RPM, LATENCY_MS);
  const fast = await startLimitedFake(0, 0);
  const providerEnv = (url: string) => ({
    OPENAI_API_KEY: API_KEY,
    OPENAI_BASE_URL: url,
    PIXEL_OPENAI_RPM: String(RPM),
    PIXEL_OPENAI_CONCURRENCY: '32',
    PIXEL_OPENAI_MAX_ATTEMPTS: '1',
    PIXEL_WORKER_CONCURRENCY: '16',
    PIXEL_LOG_LEVEL: 'error',
  });
  try {
    // PostgreSQL: two `pixel worker` processes.
    const bin = findPostgresBin();
    if (bin) {
      const pg = await startPostgres(bin);
      const children: ChildProcess[] = [];
      try {
        const url = await createTestDatabase(pg.url);
        const dir = benchDataDir('batch-pg-');
        const env = { ...providerEnv(limited.url), DATABASE_URL: url, PIXEL_DATA_DIR: dir };
        const platform = await composePlatform(platformConfigFromEnv(env), { env });
        const jobs = await startJobSystem(platform, { worker: false });
        children.push(...(await Promise.all([spawnWorker(env), spawnWorker(env)])));
        rows.push(await measure('PostgreSQL, 2 worker processes', platform, jobs, limited));
        for (const child of children) child.kill('SIGTERM');
        await jobs.stop(1_000);
        await platform.close();
        // Overhead: one in-process worker on the same server, unlimited provider.
        const fastEnv = {
          ...providerEnv(fast.url),
          PIXEL_OPENAI_RPM: '0',
          DATABASE_URL: url,
          PIXEL_DATA_DIR: dir,
        };
        const fastPlatform = await composePlatform(platformConfigFromEnv(fastEnv), { env: fastEnv });
        const fastJobs = await startJobSystem(fastPlatform, {
          worker: true,
          workerOptions: { concurrency: 16, pollMs: 100 },
        });
        overheadRows.push(await overhead(fastPlatform, fastJobs, fast, 'PostgreSQL'));
        await fastJobs.stop(1_000);
        await fastPlatform.close();
      } finally {
        for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
        await pg.stop();
      }
    } else notes.push('PostgreSQL binaries not found: the PostgreSQL rows are missing');

    // PGlite in-process: two workers in one process sharing the embedded database.
    {
      const dir = benchDataDir('batch-pglite-');
      const env = { ...providerEnv(limited.url), PIXEL_DATA_DIR: dir };
      // As the embedded server runs it: PGlite in its worker thread, beside the event loop.
      const platform = await composePlatform(platformConfigFromEnv(env), { env }, { thread: true });
      const jobs = await startJobSystem(platform, {
        worker: true,
        workerOptions: { concurrency: 16, pollMs: 100 },
      });
      const second = await startJobSystem(platform, {
        worker: true,
        workerOptions: { concurrency: 16, pollMs: 100 },
      });
      rows.push(await measure('PGlite in-process, 2 workers', platform, jobs, limited));
      await second.stop(1_000);
      await jobs.stop(1_000);
      await platform.close();
      const fastEnv = {
        ...providerEnv(fast.url),
        PIXEL_OPENAI_RPM: '0',
        PIXEL_DATA_DIR: benchDataDir('batch-pglite-fast-'),
      };
      const fastPlatform = await composePlatform(
        platformConfigFromEnv(fastEnv),
        { env: fastEnv },
        { thread: true },
      );
      const fastJobs = await startJobSystem(fastPlatform, {
        worker: true,
        workerOptions: { concurrency: 16, pollMs: 100 },
      });
      overheadRows.push(await overhead(fastPlatform, fastJobs, fast, 'PGlite'));
      await fastJobs.stop(1_000);
      await fastPlatform.close();
    }
  } finally {
    await limited.close();
    await fast.close();
  }
  for (const r of overheadRows) {
    notes.push(
      `queue overhead (${r.profile}, ${r.jobs} jobs, unlimited provider, L=0, 16 at once): direct ${r['direct ms/image']} ms/image, through the queue ${r['queued ms/image']} ms/image → ${r['queue overhead ms/job']} ms per job`,
    );
  }
  notes.push(
    `achieved rpm = successful provider calls over the span from the first to the last success; the fake's bucket holds one second of R (${Math.ceil(RPM / 60)}), like the workers' shared bucket`,
  );
  return {
    title: `Batch runs against a rate-limited provider (R=${RPM}/min, L=${LATENCY_MS} ms)`,
    rows,
    notes,
  };
}
