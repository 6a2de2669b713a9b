// Worker-thread entry: one PGlite instance answering the main thread's queries (see pglite-thread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, protocol } from '@electric-sql/pglite';
import { concat, PreparedStatements } from './pglite-prepared.ts';
import type { PgliteReply, PgliteRequest } from './pglite-thread.ts';

const port = parentPort;
if (!port) throw new Error('pglite-worker.ts runs only as a worker thread');

interface OpenTransaction {
  finish: (commit: boolean) => void;
  /** Settles once COMMIT or ROLLBACK has run and the lock is released. */
  done: Promise<unknown>;
  /** The transaction's last statement: each next one (and COMMIT) starts only after it has finished. */
  last: Promise<unknown>;
  /** Whether BEGIN has been sent (it goes with the first statement). */
  begun: boolean;
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

const BEGIN = protocol.serialize.query('BEGIN');

/**
 * A transaction on PGlite's query lock (its public runExclusive), held from BEGIN to COMMIT: every other
 * statement, and PGlite's own transactions, wait for it, as they would for PGlite's transaction(). BEGIN
 * is sent in one protocol call with the first statement, and statements run as prepared statements:
 * on the image writer's path that is two calls into PGlite per request instead of a dozen.
 * Registered at once, so that the statement that carries the BEGIN finds it.
 */
function begin(pg: PGlite, txId: number): Promise<undefined> {
  let finish!: (commit: boolean) => void;
  const decided = new Promise<boolean>((resolve) => {
    finish = resolve;
  });
  let locked!: () => void;
  const held = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const entry: OpenTransaction = { finish, done: held, last: held, begun: false };
  entry.done = pg
    .runExclusive(async () => {
      locked();
      const commit = await decided;
      await entry.last;
      if (!entry.begun) return;
      const { messages } = await pg.execProtocol(protocol.serialize.query(commit ? 'COMMIT' : 'ROLLBACK'), {
        syncToFs: commit,
      });
      const tag = messages.find((m) => m.name === 'commandComplete') as { text?: string } | undefined;
      // PostgreSQL answers COMMIT of a failed transaction with ROLLBACK, not an error.
      if (commit && tag?.text === 'ROLLBACK')
        throw new Error('the transaction was rolled back: a statement in it failed');
    })
    .finally(() => transactions.delete(txId));
  transactions.set(txId, entry);
  return held.then(() => undefined);
}

/**
 * Runs `work` inside transaction `txId`, after the transaction's previous statement has finished: the
 * caller may post COMMIT right behind a statement without waiting for its answer. `work` gets the BEGIN
 * to send first when none has been sent yet.
 */
function inTransaction<T>(
  txId: number | undefined,
  work: (before: Uint8Array | undefined) => Promise<T>,
): Promise<T> {
  const entry = txId === undefined ? undefined : transactions.get(txId);
  if (!entry) return Promise.reject(new Error(`transaction ${txId} is not open`));
  const run = entry.last.then(() => {
    const before = entry.begun ? undefined : BEGIN;
    entry.begun = true;
    return work(before);
  });
  entry.last = run.catch(() => {});
  return run;
}

port.on('message', (request: PgliteRequest) => {
  void answer(request.id, async () => {
    const pg = await ready;
    if (request.begin) void begin(pg, request.tx!);
    switch (request.op) {
      case 'query':
        return request.tx === undefined
          ? (await pg.query(request.sql!, request.params)).rows
          : // Inside a transaction (the image writer's inserts): as prepared statements.
            await inTransaction(request.tx, async (before) =>
              (await prepared).queryHeld(request.sql!, request.params, before),
            );
      case 'exec':
        if (request.tx === undefined) await pg.exec(request.sql!);
        else {
          const script = protocol.serialize.query(request.sql!);
          await inTransaction(request.tx, (before) =>
            pg.execProtocol(before ? concat([before, script]) : script, { syncToFs: false }),
          );
        }
        return undefined;
      case 'commit':
      case 'rollback': {
        const entry = request.tx === undefined ? undefined : transactions.get(request.tx);
        if (!entry) throw new Error(`transaction ${request.tx} is not open`);
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
