import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../providers/reliability/manual-clock.ts';
import { type Db, openDatabase } from './db.ts';
import { IdempotencyStore, LEASE_MS } from './idempotency.ts';

let db: Db;
beforeAll(async () => {
  db = await openDatabase({ memory: true });
});
afterAll(async () => {
  await db?.close();
});

let n = 0;
const unique = (prefix: string) => `${prefix}-${++n}`;

/** Two processes sharing one database (the production profile), on one test clock; leases renewed by hand. */
function twoProcesses(clock: ManualClock) {
  const options = { clock, renewEveryMs: 0, exclusive: false };
  return {
    crashed: new IdempotencyStore(db, { ...options, owner: 'process-a' }),
    retry: new IdempotencyStore(db, { ...options, owner: 'process-b' }),
  };
}

describe('idempotency leases', () => {
  it('a retry takes over a pending key as soon as its owner stopped renewing the lease', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 2, 6));
    const { crashed, retry } = twoProcesses(clock);
    const team = unique('team');
    const key = unique('key');
    expect(await crashed.begin({ team, key, requestHash: 'h' })).toEqual({ state: 'new' });
    // While the owner is alive, a retry waits (409), however often it asks.
    clock.advance(LEASE_MS - 1);
    expect(await retry.begin({ team, key, requestHash: 'h' })).toEqual({ state: 'in_progress' });
    // The owner is killed: no more renewals. One lease later the retry runs, not 15 minutes later.
    clock.advance(1);
    expect(await retry.begin({ team, key, requestHash: 'h' })).toEqual({ state: 'new' });
    // The dead owner's late complete or abandon cannot clobber the new owner's record.
    expect(await crashed.complete(team, key, { stale: true })).toBe(false);
    await crashed.abandon(team, key);
    expect(await retry.complete(team, key, { images: ['img_1'] })).toBe(true);
    expect(await crashed.begin({ team, key, requestHash: 'h' })).toEqual({
      state: 'replay',
      response: { images: ['img_1'] },
    });
  });

  it('a live owner that renews keeps its key past one lease', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 2, 7));
    const { crashed: alive, retry } = twoProcesses(clock);
    const team = unique('team');
    const key = unique('key');
    await alive.begin({ team, key, requestHash: 'h' });
    for (let i = 0; i < 5; i++) {
      clock.advance(LEASE_MS / 2);
      expect(await alive.renewLeases()).toBe(1);
      expect(await retry.begin({ team, key, requestHash: 'h' })).toEqual({ state: 'in_progress' });
    }
    expect(await alive.complete(team, key, { ok: 1 })).toBe(true);
    expect(await alive.renewLeases()).toBe(0);
  });

  it('a different body under a pending key is still refused after the lease lapses', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 2, 8));
    const { crashed, retry } = twoProcesses(clock);
    const team = unique('team');
    const key = unique('key');
    await crashed.begin({ team, key, requestHash: 'h1' });
    clock.advance(LEASE_MS * 2);
    await expect(retry.begin({ team, key, requestHash: 'h2' })).rejects.toMatchObject({
      field: 'idempotency_key',
      reason: 'idempotency_mismatch',
    });
  });

  it('on a database only one process can open (embedded PGlite), another owner’s pending key is taken at once', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 2, 9));
    const team = unique('team');
    const key = unique('key');
    const before = new IdempotencyStore(db, { clock, renewEveryMs: 0, owner: 'killed-process' });
    await before.begin({ team, key, requestHash: 'h' });
    // The restarted server: the default for a PGlite database is exclusive.
    const after = new IdempotencyStore(db, { clock, renewEveryMs: 0, owner: 'restarted-process' });
    expect(await after.begin({ team, key, requestHash: 'h' })).toEqual({ state: 'new' });
    // Its own concurrent repeat still waits.
    expect(await after.begin({ team, key, requestHash: 'h' })).toEqual({ state: 'in_progress' });
  });
});
