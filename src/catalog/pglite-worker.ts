// Worker-thread entry: one PGlite instance answering the main thread's queries (see pglite-thread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { PreparedStatements } from './pglite-prepared.ts';
import type { PgliteReply, PgliteRequest } from './pglite-thread.ts';

const port = parentPort;
if (!port) throw new Error('pglite-worker.ts runs only as a worker thread');

interface OpenTransaction {
  open: Promise<Transaction>;
  finish: (commit: boolean) => void;
  done: Promise<unknown>;
  /** The transaction's last statement: each next one (and COMMIT) starts only after it has finished. */
  last: Promise<unknown>;
}

const { dataDir } = workerData as { dataDir?: string };
const ready = PGlite.create(dataDir);
const prepared = ready.then((pg) => new PreparedStatements(pg));
const transactions = new Map<number, OpenTransaction>();

/** Own enumerable fields too (PGlite's DatabaseError: code, detail, hint…), so callers see what they would in-process. */
function serialiseError(error: unknown): NonNullable<PgliteReply['error']> {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (value === undefined || typeof value === 'function') continue;
    fields[key] = typeof value === 'object' && value !== null ? JSON.parse(JSON.stringify(value)) : value;
  }
  return { name: error.name, message: error.message, fields };
}

async function answer(id: number, work: () => Promise<unknown[] | undefined>): Promise<void> {
  let reply: PgliteReply;
  try {
    reply = { id, rows: await work() };
  } catch (error) {
    reply = { id, error: serialiseError(error) };
  }
  port!.postMessage(reply);
}

/**
 * Opens PGlite's own transaction() for `txId` and registers it at once, before it is open, so that
 * statements posted right behind BEGIN wait for it instead of finding no transaction. Statements sent
 * outside it queue behind it inside PGlite, as in-process.
 */
function begin(pg: PGlite, txId: number): Promise<undefined> {
  let finish!: (commit: boolean) => void;
  const decided = new Promise<boolean>((resolve) => {
    finish = resolve;
  });
  let opened!: (tx: Transaction) => void;
  const open = new Promise<Transaction>((resolve) => {
    opened = resolve;
  });
  const done = pg
    .transaction(async (tx) => {
      opened(tx);
      if (!(await decided)) await tx.rollback();
    })
    .finally(() => transactions.delete(txId));
  transactions.set(txId, { open, finish, done, last: Promise.race([open, done]).catch(() => {}) });
  // Begun once open; a BEGIN that fails fails this reply (and every statement waiting on it).
  return Promise.race([open.then(() => undefined), done.then(() => undefined)]);
}

/**
 * Runs `work` inside transaction `txId`, after the transaction's previous statement has finished: the
 * caller may post COMMIT right behind a statement without waiting for its answer, and the order holds
 * whatever PGlite awaits inside.
 */
function inTransaction<T>(txId: number | undefined, work: (tx: Transaction) => Promise<T>): Promise<T> {
  const entry = txId === undefined ? undefined : transactions.get(txId);
  if (!entry) return Promise.reject(new Error(`transaction ${txId} is not open`));
  const run = entry.last.then(() =>
    Promise.race([
      entry.open.then(work),
      entry.done.then(() => Promise.reject(new Error(`transaction ${txId} ended`))),
    ]),
  );
  entry.last = run.catch(() => {});
  return run;
}

port.on('message', (request: PgliteRequest) => {
  void answer(request.id, async () => {
    const pg = await ready;
    switch (request.op) {
      case 'query':
        return request.tx === undefined
          ? (await pg.query(request.sql!, request.params)).rows
          : // Inside a transaction (the image writer's inserts): as prepared statements.
            await inTransaction(request.tx, async () => (await prepared).query(request.sql!, request.params));
      case 'exec':
        if (request.tx === undefined) await pg.exec(request.sql!);
        else await inTransaction(request.tx, (tx) => tx.exec(request.sql!));
        return undefined;
      case 'begin':
        return begin(pg, request.tx!);
      case 'commit':
      case 'rollback': {
        const entry = request.tx === undefined ? undefined : transactions.get(request.tx);
        if (!entry) throw new Error(`transaction ${request.tx} is not open`);
        await entry.last; // after the statements posted before it
        entry.finish(request.op === 'commit');
        await entry.done;
        return undefined;
      }
      case 'close':
        if (!pg.closed) await pg.close();
        return undefined;
    }
  });
});
