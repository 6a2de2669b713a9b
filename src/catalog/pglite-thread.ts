import { Worker } from 'node:worker_threads';
import { PixelError } from '../protocol/errors.ts';
import type { Db, Queryable } from './db.ts';

/** A message to the PGlite worker. `tx` names the open transaction a statement belongs to. */
export interface PgliteRequest {
  id: number;
  op: 'query' | 'exec' | 'commit' | 'rollback' | 'close';
  sql?: string;
  params?: unknown[];
  tx?: number;
  /** On a transaction's first statement: open transaction `tx` first (no message of its own). */
  begin?: boolean;
}

export interface PgliteReply {
  id: number;
  rows?: unknown[];
  error?: { name: string; message: string; fields: Record<string, unknown> };
}

interface Pending {
  resolve: (rows: unknown[] | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * PGlite in a worker thread, behind the same Db interface as in-process PGlite. The database's own
 * work (WebAssembly, its wire protocol in JS, its synchronous file writes: ~1 ms per insert) then runs
 * beside the server's event loop instead of on it, so a request can write its blob while its row is
 * being inserted (bench/service.bench.ts). Statements go to the worker as they are issued and run in
 * that order; a transaction's statements run inside PGlite's own transaction(), so statements from
 * outside it wait until it ends, exactly as in-process.
 *
 * Written by hand: PGlite's own worker wrapper (`@electric-sql/pglite/worker`) targets browser Web
 * Workers and their tab-leader election, not Node's worker_threads.
 */
export async function openPgliteThread(dataDir: string | undefined): Promise<Db> {
  const worker = new Worker(new URL('./pglite-worker.ts', import.meta.url), {
    workerData: { dataDir },
    // None of the process's flags: V8 flags (the server's --max-semi-space-size) and `--input-type` are
    // refused by a worker, and V8's flags apply to the whole process anyway.
    execArgv: [],
  });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let nextTx = 1;
  let failure: PixelError | undefined;

  // The worker keeps the process alive only while something waits on it (a CLI command must still exit).
  worker.unref();
  const settle = (id: number) => {
    const waiting = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) worker.unref();
    return waiting;
  };
  worker.on('message', (reply: PgliteReply) => {
    const waiting = settle(reply.id);
    if (!waiting) return;
    if (reply.error) waiting.reject(rebuildError(reply.error));
    else waiting.resolve(reply.rows);
  });
  const fail = (why: string) => {
    failure ??= new PixelError({
      code: 'unavailable',
      reason: 'database_unavailable',
      message: `the embedded catalogue's worker thread stopped: ${why}`,
    });
    for (const [id, waiting] of pending) {
      settle(id);
      waiting.reject(failure);
    }
  };
  worker.on('error', (error) => fail(error.message));
  worker.on('exit', (code) => fail(`exit code ${code}`));

  const send = (request: Omit<PgliteRequest, 'id'>): Promise<unknown[] | undefined> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  };
  /** `opening`: for a transaction, whether this statement is its first (and so opens it). */
  const queryable = (tx?: number, opening: () => boolean = () => false): Queryable => ({
    async query<T>(sql: string, params?: unknown[]) {
      return ((await send({ op: 'query', sql, params, tx, begin: opening() })) ?? []) as T[];
    },
    async exec(sql: string) {
      await send({ op: 'exec', sql, tx, begin: opening() });
    },
  });

  try {
    await send({ op: 'query', sql: 'SELECT 1' });
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return {
    kind: 'pglite',
    ...queryable(),
    async transaction<R>(fn: (tx: Queryable) => Promise<R>): Promise<R> {
      const tx = nextTx++;
      // No message of its own for BEGIN: the first statement carries it (one message less each way,
      // and its sender goes on at once, to write a blob, say, while the worker opens and runs it).
      let opened = false;
      const opening = () => {
        if (opened) return false;
        opened = true;
        return true;
      };
      if (failure) throw failure;
      let result: R;
      try {
        result = await fn(queryable(tx, opening));
      } catch (error) {
        if (opened) await send({ op: 'rollback', tx }).catch(() => {});
        throw error;
      }
      if (opened) await send({ op: 'commit', tx });
      return result;
    },
    async close() {
      if (!failure) await send({ op: 'close' }).catch(() => {});
      await worker.terminate();
    },
  };
}

/** The worker's error as the caller would have seen it in-process: same message, name and fields (code…). */
function rebuildError(error: NonNullable<PgliteReply['error']>): Error {
  const rebuilt = new Error(error.message);
  rebuilt.name = error.name;
  return Object.assign(rebuilt, error.fields);
}
