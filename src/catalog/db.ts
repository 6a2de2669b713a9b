import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PixelError, redactSecrets } from '../protocol/errors.ts';
import { lockDataDir } from './data-lock.ts';
import { applyMigrations } from './migrate.ts';

/** What a repository needs: parameterised queries, and multi-statement scripts (migrations). */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of several statements without parameters. */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  kind: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<R>(fn: (tx: Queryable) => Promise<R>): Promise<R>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** A PostgreSQL URL. When absent (and neither `memory` nor `dataDir` is given) `DATABASE_URL` is used. */
  url?: string;
  /** PGlite data folder; default `${PIXEL_DATA_DIR:-./data}/pglite`. */
  dataDir?: string;
  /** PGlite in memory (tests). */
  memory?: boolean;
  /** Pool size for the server driver. */
  maxConnections?: number;
  /**
   * Run PGlite in a worker thread (the server does): its work then runs beside the caller's event loop.
   * One-shot commands keep it in-process (no thread to start).
   */
  thread?: boolean;
  /** Skip migrations (only for tools that inspect a database as it is). */
  migrate?: boolean;
}

export function defaultPgliteDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.PIXEL_DATA_DIR || './data', 'pglite');
}

/**
 * Opens the catalogue: PGlite (embedded) unless a server URL is given, then applies migrations.
 * The same SQL runs on both.
 */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Db> {
  const embeddedAsked = options.memory === true || options.dataDir !== undefined;
  const url = options.url ?? (embeddedAsked ? undefined : process.env.DATABASE_URL || undefined);
  const db = url ? await openPostgres(url, options.maxConnections ?? 10) : await openPglite(options);
  if (options.migrate !== false) {
    try {
      await applyMigrations(db);
    } catch (error) {
      await db.close();
      throw error;
    }
  }
  return db;
}

async function openPglite(options: OpenDatabaseOptions): Promise<Db> {
  let dataDir: string | undefined;
  if (options.memory !== true) {
    dataDir = options.dataDir ?? defaultPgliteDir();
    mkdirSync(dataDir, { recursive: true });
  }
  const unlock = dataDir === undefined ? () => {} : lockDataDir(dataDir);
  if (options.thread === true) {
    const { openPgliteThread } = await import('./pglite-thread.ts');
    const db = await openPgliteThread(dataDir).catch((error: unknown) => {
      unlock();
      throw error;
    });
    return {
      ...db,
      async close() {
        await db.close();
        unlock();
      },
    };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const pg = await PGlite.create(dataDir === undefined ? undefined : join(dataDir)).catch(
    (error: unknown) => {
      unlock();
      throw error;
    },
  );
  // PGlite has one connection. Its own query() and transaction() already queue behind an open
  // transaction (an internal mutex), so callers must use the `tx` handed to them inside one:
  // calling db.query from inside db.transaction would wait for itself.
  return {
    kind: 'pglite',
    async query<T>(sql: string, params?: unknown[]) {
      return (await pg.query<T>(sql, params)).rows;
    },
    async exec(sql: string) {
      await pg.exec(sql);
    },
    transaction<R>(fn: (tx: Queryable) => Promise<R>) {
      return pg.transaction(async (t) =>
        fn({
          async query<T>(sql: string, params?: unknown[]) {
            return (await t.query<T>(sql, params)).rows;
          },
          async exec(sql: string) {
            await t.exec(sql);
          },
        }),
      );
    },
    async close() {
      if (!pg.closed) await pg.close();
      unlock();
    },
  };
}

async function openPostgres(url: string, max: number): Promise<Db> {
  const { default: pgModule } = await import('pg');
  const pool = new pgModule.Pool({ connectionString: url, max });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new PixelError({
      code: 'unavailable',
      message: `cannot connect to the catalogue database: ${redactSecrets((error as Error).message)}`,
      field: 'DATABASE_URL',
      reason: 'database_unavailable',
      cause: error,
    });
  }
  return {
    kind: 'postgres',
    async query<T>(sql: string, params?: unknown[]) {
      return (await pool.query(sql, params)).rows as T[];
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    async transaction<R>(fn: (tx: Queryable) => Promise<R>) {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn({
          async query<T>(sql: string, params?: unknown[]) {
            return (await client.query(sql, params)).rows as T[];
          },
          async exec(sql: string) {
            await client.query(sql);
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true; // the connection is unusable: drop it from the pool
        }
        throw error;
      } finally {
        client.release(broken);
      }
    },
    async close() {
      if (!pool.ended) await pool.end();
    },
  };
}
