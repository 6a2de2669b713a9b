import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from './db.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
/** Runs `body` against an in-memory PGlite in a worker thread, closed afterwards. */
async function withThreadDb(body: (db: Db) => Promise<void>): Promise<void> {
  const db = await openDatabase({ memory: true, thread: true });
  try {
    await body(db);
  } finally {
    await db.close();
  }
}

const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'pixel-pglite-thread-'));
  dirs.push(dir);
  return dir;
};

describe('PGlite in a worker thread', () => {
  it("hands back the database's own errors with their fields (code, constraint)", async () => {
    await withThreadDb(async (db) => {
      await db.exec('CREATE TABLE t (id int PRIMARY KEY)');
      await db.query('INSERT INTO t VALUES ($1)', [1]);
      const error = await db.query('INSERT INTO t VALUES ($1)', [1]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({ code: '23505', constraint: 't_pkey' });
      expect((error as Error).message).toMatch(/duplicate key/);
      // and keeps serving afterwards
      expect(await db.query<{ n: number }>('SELECT count(*)::int AS n FROM t')).toEqual([{ n: 1 }]);
    });
  });

  it('runs statements in the order issued, and a transaction alone until it ends', async () => {
    await withThreadDb(async (db) => {
      await db.exec('CREATE TABLE log (n int)');
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const inTx = db.transaction(async (tx) => {
        await tx.query('INSERT INTO log VALUES (1)');
        await gate; // the caller holds the transaction open (a blob write, say)
        await tx.query('INSERT INTO log VALUES (2)');
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const outside = db.query<{ n: number }>('SELECT count(*)::int AS n FROM log');
      await new Promise((resolve) => setTimeout(resolve, 20));
      release();
      await inTx;
      // The outside read waited for the commit: it sees both rows, never one.
      expect(await outside).toEqual([{ n: 2 }]);

      const rolledBack = db.transaction(async (tx) => {
        await tx.query('INSERT INTO log VALUES (3)');
        throw new Error('blob write failed');
      });
      await expect(rolledBack).rejects.toThrow('blob write failed');
      expect(await db.query<{ n: number }>('SELECT count(*)::int AS n FROM log')).toEqual([{ n: 2 }]);
    });
  });

  it('commits statements posted right before COMMIT without waiting for their answers', async () => {
    await withThreadDb(async (db) => {
      await db.exec('CREATE TABLE q (n int)');
      const count = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM q'))[0]!.n;
      let posted: Promise<unknown> = Promise.resolve();
      await db.transaction(async (tx) => {
        posted = tx.query('INSERT INTO q VALUES (1)');
      });
      await posted;
      expect(await count()).toBe(1);

      // A statement that fails turns the COMMIT behind it into a rollback of the whole transaction.
      let bad: Promise<unknown> = Promise.resolve();
      const failed = db.transaction(async (tx) => {
        void tx.query('INSERT INTO q VALUES (2)').catch(() => {});
        bad = tx.query('INSERT INTO q VALUES ($1)', ['not a number']);
        bad.catch(() => {});
      });
      await expect(failed).rejects.toThrow();
      await expect(bad).rejects.toMatchObject({ code: '22P02' });
      expect(await count()).toBe(1);
    });
  });

  it('runs empty transactions and scripts inside transactions', async () => {
    await withThreadDb(async (db) => {
      expect(await db.transaction(async () => 'nothing done')).toBe('nothing done');
      await db.transaction(async (tx) => {
        await tx.exec('CREATE TABLE s (n int); INSERT INTO s VALUES (1), (2);');
      });
      const failed = db.transaction(async (tx) => {
        await tx.exec('INSERT INTO s VALUES (3); INSERT INTO s VALUES (0 / 0);');
      });
      await expect(failed).rejects.toMatchObject({ code: '22012' });
      expect(await db.query('SELECT n FROM s ORDER BY n')).toEqual([{ n: 1 }, { n: 2 }]);
      // Given up before any statement (nothing was opened), and after one (rolled back).
      await expect(
        db.transaction(async () => {
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      await expect(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO s VALUES (4)');
          throw new Error('changed my mind later');
        }),
      ).rejects.toThrow('changed my mind later');
      expect(await db.query('SELECT n FROM s ORDER BY n')).toEqual([{ n: 1 }, { n: 2 }]);
    });
  });

  it('takes the data folder lock like in-process PGlite', async () => {
    const dir = tempDir();
    const db = await openDatabase({ dataDir: dir, thread: true });
    try {
      await expect(openDatabase({ dataDir: dir })).rejects.toThrow(/in use/);
    } finally {
      await db.close();
    }
    const again = await openDatabase({ dataDir: dir });
    await again.close();
  });

  it('does not keep a process alive once nothing waits on it', async () => {
    const dir = tempDir();
    const script = `
      const { openDatabase } = await import(${JSON.stringify(new URL('./db.ts', import.meta.url).href)});
      const db = await openDatabase({ dataDir: ${JSON.stringify(dir)}, thread: true });
      const rows = await db.query('SELECT count(*)::int AS n FROM images');
      console.log(JSON.stringify(rows));
    `;
    const started = Date.now();
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', script],
        { timeout: 60_000 },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      );
    });
    expect(JSON.parse(output)).toEqual([{ n: 0 }]);
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});
