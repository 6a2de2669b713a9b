import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../src/catalog/db.ts';
import { openDatabase } from '../src/catalog/db.ts';
import { ImageRepo, type NewImageRecord } from '../src/catalog/images.ts';
import {
  createTestDatabase,
  findPostgresBin,
  startPostgres,
} from '../src/catalog/testing/postgres-server.ts';
import { type BenchSection, round } from './types.ts';

const INSERTS = 1500;
const WARMUP = 50;

function sampleRecord(i: number): NewImageRecord {
  const key = `bench/${i}-${Math.random()}`;
  return {
    team: `team-${i % 8}`,
    application: 'butcher-cuts',
    appVersion: 1,
    model: 'flux-dev',
    route: 'fal/fal-ai/flux/dev',
    provider: 'fal',
    blobKey: key,
    sha256: createHash('sha256').update(key).digest('hex'),
    byteSize: 262_144,
    mediaType: 'image/png',
    width: 1024,
    height: 1024,
    prompt: 'butcher cut: ribeye steak, studio product photo on a warm neutral background',
    negativePrompt: 'bones, blur',
    seed: i,
    params: { cfgScale: 7, style: 'studio-product', quality: 'standard' },
    nativeRequest: {
      prompt: 'butcher cut: ribeye steak',
      guidance_scale: 3.5,
      image_size: 'square_hd',
      seed: i,
    },
    report: { entries: [{ field: 'cfgScale', outcome: 'adjusted', value: 3.5 }] },
    costUsd: 0.025,
    latencyMs: 800,
  };
}

/** Inserts `total` records with `concurrency` in flight; returns records per second. */
async function insertRate(db: Db, concurrency: number, total: number): Promise<number> {
  const repo = new ImageRepo(db);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        await repo.insert(sampleRecord(i));
      }
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

async function measure(name: string, db: Db, rows: BenchSection['rows']): Promise<void> {
  await insertRate(db, 4, WARMUP);
  for (const concurrency of [1, 32]) {
    const perSecond = await insertRate(db, concurrency, INSERTS);
    rows.push({ backend: name, concurrency, inserts: INSERTS, 'inserts/s': round(perSecond, 0) });
  }
}

export async function bench(): Promise<BenchSection> {
  const rows: BenchSection['rows'] = [];
  const notes: string[] = [
    'One ImageRepo.insert per image record (full record with JSON params, native request and report).',
    'PGlite is one connection in this process: concurrent inserts queue on it. PostgreSQL uses a pool of 10.',
  ];

  const dir = mkdtempSync(join(tmpdir(), 'pixel-bench-pglite-'));
  try {
    const pglite = await openDatabase({ dataDir: dir });
    try {
      await measure('PGlite (data folder)', pglite, rows);
    } finally {
      await pglite.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const bin = findPostgresBin();
  if (!bin) {
    notes.push(
      'PostgreSQL skipped: no binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql).',
    );
  } else {
    // Default durability (fsync, synchronous commit) so the server is measured as it would run.
    const server = await startPostgres(bin, { durable: true });
    try {
      const db = await openDatabase({ url: await createTestDatabase(server.url, 'pixel_bench') });
      try {
        await measure('PostgreSQL 127.0.0.1', db, rows);
      } finally {
        await db.close();
      }
    } finally {
      await server.stop();
    }
    notes.push(
      'PostgreSQL: a throwaway local server with default fsync/synchronous_commit; client and server share the cores.',
    );
  }
  const pg1 = rows.find((r) => r.backend !== 'PGlite (data folder)' && r.concurrency === 32);
  const lite1 = rows.find((r) => r.backend === 'PGlite (data folder)' && r.concurrency === 32);
  if (pg1 && lite1) {
    notes.push(
      `At concurrency 32, PostgreSQL / PGlite = ${round(Number(pg1['inserts/s']) / Number(lite1['inserts/s']), 2)}x.`,
    );
  }
  return { title: 'Catalogue: image-record inserts per second, PGlite vs PostgreSQL', rows, notes };
}
