import { PgBoss } from 'pg-boss';
import type { Db } from '../catalog/db.ts';

/** The queue every batch cell goes through, and where cells that ran out of attempts land. */
export const CELL_QUEUE = 'pixel-cells';
export const DEAD_QUEUE = 'pixel-cells-dead';
/** Economy-mode runs: submitting to, and following, a provider's batch API. */
export const ECONOMY_QUEUE = 'pixel-economy';

export interface BossOptions {
  /**
   * A PostgreSQL server: pg-boss opens its own small pool to it (the catalogue's database), which gives
   * it multi-statement scripts and a session of its own. Absent: it runs through `db` (embedded PGlite).
   */
  databaseUrl?: string;
  db: Db;
  /** Seconds a fetched job may stay active before pg-boss hands it to another worker (the lease). */
  leaseSeconds?: number;
  /** How often the maintenance that expires lapsed leases runs (seconds). */
  superviseSeconds?: number;
}

/**
 * pg-boss on the catalogue's database. On embedded PGlite it goes through Pixel's own `Db` (in-process or
 * its worker thread): a statement with parameters is one query; a script without them (pg-boss's schema
 * and its locked blocks) runs as a query when it is one statement, else as a script.
 */
export async function startBoss(options: BossOptions): Promise<PgBoss> {
  const common = {
    schema: 'pgboss',
    superviseIntervalSeconds: options.superviseSeconds ?? 5,
    monitorIntervalSeconds: options.superviseSeconds ?? 5,
    registerInstance: false,
    // No cron schedules here: their timers would only add polling.
    schedule: false,
    openTelemetry: { enabled: false },
  };
  const boss = options.databaseUrl
    ? new PgBoss({ connectionString: options.databaseUrl, max: 4, ...common })
    : new PgBoss({
        db: dbAdapter(options.db),
        ...(options.db.kind === 'pglite' && { backend: 'pglite' }),
        ...common,
      });
  boss.on('error', () => {});
  await boss.start();
  await ensureQueues(boss, options.leaseSeconds ?? 60);
  return boss;
}

async function ensureQueues(boss: PgBoss, leaseSeconds: number): Promise<void> {
  if (!(await boss.getQueue(DEAD_QUEUE))) {
    await boss.createQueue(DEAD_QUEUE, { retentionSeconds: 30 * 24 * 3600 }).catch(ignoreExists);
  }
  if (!(await boss.getQueue(ECONOMY_QUEUE))) {
    await boss
      .createQueue(ECONOMY_QUEUE, { retryLimit: 20, retryDelay: 5, retryBackoff: true, retryDelayMax: 300 })
      .catch(ignoreExists);
  }
  if (!(await boss.getQueue(CELL_QUEUE))) {
    await boss
      .createQueue(CELL_QUEUE, {
        deadLetter: DEAD_QUEUE,
        // A dead worker's idempotency leases lapse after ~30 s: the retries must outlast that.
        retryLimit: 8,
        retryDelay: 2,
        retryBackoff: true,
        retryDelayMax: 10,
        ...leaseOptions(leaseSeconds),
      })
      .catch(ignoreExists);
  } else {
    await boss.updateQueue(CELL_QUEUE, leaseOptions(leaseSeconds));
  }
}

/**
 * A worker's hold on a job: heartbeats (the worker touches its jobs every half lease; a job whose heartbeats
 * stop, its worker dead, is handed out again), and a ceiling of an hour for one cell however alive its worker.
 * pg-boss takes heartbeats of 10 s at least.
 */
export function leaseOptions(leaseSeconds: number): { heartbeatSeconds: number; expireInSeconds: number } {
  const heartbeatSeconds = Math.max(10, leaseSeconds);
  return { heartbeatSeconds, expireInSeconds: Math.max(3_600, heartbeatSeconds * 2) };
}

function ignoreExists(error: unknown): void {
  if (!/already exists|duplicate key/i.test((error as Error).message)) throw error;
}

const MULTI_STATEMENT = /cannot insert multiple commands into a prepared statement/i;

export function dbAdapter(db: Db): {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
} {
  return {
    async executeSql(text: string, values?: unknown[]) {
      if (values && values.length > 0) return { rows: await db.query(text, values) };
      try {
        return { rows: await db.query(text) };
      } catch (error) {
        if (!MULTI_STATEMENT.test((error as Error).message)) throw error;
        // A script (schema, migrations, a locked block): its statements run in order; the rows pg-boss
        // reads from these are the schema's and are re-read by single statements afterwards.
        await db.exec(text);
        return { rows: [] };
      }
    },
  };
}
