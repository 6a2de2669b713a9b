import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { catalogContract } from './catalog.contract.ts';
import { openDatabase } from './db.ts';
import { ImageRepo } from './images.ts';
import { loadMigrations } from './migrate.ts';
import { createTestDatabase } from './testing/postgres-server.ts';

const postgresUrl = inject('postgresUrl');

catalogContract({ name: 'PGlite (in memory)', create: () => openDatabase({ memory: true }) });

catalogContract({
  name: 'PGlite in a worker thread',
  create: () => openDatabase({ memory: true, thread: true }),
});

catalogContract({
  name: 'PostgreSQL server',
  create: postgresUrl ? async () => openDatabase({ url: await createTestDatabase(postgresUrl) }) : undefined,
  skipReason: inject('postgresSkipReason') ?? 'no PostgreSQL server was provided',
});

const sampleRecord = {
  team: 'durable',
  model: 'pixel/sketch',
  route: 'pixel/sketch',
  provider: 'pixel',
  blobKey: 'sha256/ab/abcdef.png',
  sha256: 'a'.repeat(64),
  byteSize: 10,
  mediaType: 'image/png',
  width: 64,
  height: 64,
  prompt: 'a pear',
  seed: 42,
};

for (const thread of [false, true]) {
  describe(`PGlite with a data folder${thread ? ', in a worker thread' : ''}`, () => {
    it('keeps rows and applied migrations across close and reopen', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pixel-pglite-'));
      try {
        const first = await openDatabase({ dataDir: dir, thread });
        expect(first.kind).toBe('pglite');
        const inserted = await new ImageRepo(first).insert(sampleRecord);
        await first.close();

        const second = await openDatabase({ dataDir: dir, thread });
        try {
          expect(await new ImageRepo(second).get(inserted.id)).toEqual(inserted);
          const migrations = await second.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM schema_migrations',
          );
          expect(migrations[0]!.n).toBe(loadMigrations().length);
        } finally {
          await second.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('rolls a failed transaction back and keeps serving queries', async () => {
      const db = await openDatabase({ memory: true, thread });
      try {
        const repo = new ImageRepo(db);
        const failed = db.transaction(async (tx) => {
          await new ImageRepo(tx).insert({ ...sampleRecord, team: 'rollback' });
          throw new Error('boom');
        });
        await expect(failed).rejects.toThrow('boom');
        // queries issued while a transaction runs wait for it instead of interleaving
        const [inTx, outside] = await Promise.all([
          db.transaction(async (tx) => {
            await new ImageRepo(tx).insert({ ...sampleRecord, team: 'rollback' });
            return (
              await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM images WHERE team = 'rollback'`)
            )[0]!.n;
          }),
          repo.list({ team: 'rollback', limit: 10 }),
        ]);
        expect(inTx).toBe(1);
        expect(outside.images.length).toBeLessThanOrEqual(1);
        expect((await repo.list({ team: 'rollback', limit: 10 })).images.length).toBe(1);
      } finally {
        await db.close();
      }
    });
  });
}

describe.skipIf(!postgresUrl)('PostgreSQL server specifics', () => {
  it('two processes opening a new database together apply migrations once', async () => {
    const url = await createTestDatabase(postgresUrl!);
    const [a, b] = await Promise.all([openDatabase({ url }), openDatabase({ url })]);
    try {
      expect(a.kind).toBe('postgres');
      const rows = await a.query<{ version: number }>(
        'SELECT version FROM schema_migrations ORDER BY version',
      );
      expect(rows.map((r) => Number(r.version))).toEqual(loadMigrations().map((m) => m.version));
      const inserted = await new ImageRepo(a).insert(sampleRecord);
      expect(await new ImageRepo(b).get(inserted.id)).toEqual(inserted);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('reports an unreachable server as unavailable without leaking the password', async () => {
    const error = await openDatabase({ url: 'postgres://pixel:supersecretpw@127.0.0.1:1/none' }).catch(
      (e: unknown) => e,
    );
    expect((error as { code?: string }).code).toBe('unavailable');
    expect(String((error as Error).message)).not.toContain('supersecretpw');
  });
});
