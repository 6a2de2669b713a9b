import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Db, openDatabase } from '../catalog/db.ts';
import { createTestDatabase } from '../catalog/testing/postgres-server.ts';
import { systemClock } from '../providers/reliability/clock.ts';
import { ManualClock } from '../providers/reliability/manual-clock.ts';
import { ProviderSlots } from './provider-slots.ts';

const postgresUrl = inject('postgresUrl');

describe('ProviderSlots on PGlite', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openDatabase({ memory: true });
  });
  afterAll(async () => {
    await db.close();
  });

  it('gives out at most `limit` slots across workers; a released slot is free again', async () => {
    const clock = new ManualClock(1_000_000);
    const a = new ProviderSlots(db, clock, { owner: 'worker-a', leaseMs: 5_000 });
    const b = new ProviderSlots(db, clock, { owner: 'worker-b', leaseMs: 5_000 });
    const first = await a.tryAcquire('p1', 2, 'cell-1');
    const second = await b.tryAcquire('p1', 2, 'cell-2');
    expect([first?.slot, second?.slot].sort()).toEqual([0, 1]);
    expect(await a.tryAcquire('p1', 2, 'cell-3')).toBeUndefined();
    expect(await b.tryAcquire('p1', 2, 'cell-3')).toBeUndefined();
    expect(await a.inUse('p1')).toBe(2);
    // Another provider has slots of its own.
    expect(await b.tryAcquire('p2', 1, 'cell-4')).toBeDefined();
    await second!.release();
    const third = await a.tryAcquire('p1', 2, 'cell-3');
    expect(third?.slot).toBe(second!.slot);
    expect(a.held).toBe(2);
  });

  it("a dead worker's slot comes free when its lease lapses; a live one keeps it by renewing", async () => {
    const clock = new ManualClock(2_000_000);
    const dead = new ProviderSlots(db, clock, { owner: 'dead', leaseMs: 3_000 });
    const live = new ProviderSlots(db, clock, { owner: 'live', leaseMs: 3_000 });
    await dead.tryAcquire('p3', 2, 'cell-1');
    const kept = await live.tryAcquire('p3', 2, 'cell-2');
    expect(await live.tryAcquire('p3', 2, 'cell-3')).toBeUndefined();
    clock.advance(2_000);
    await live.renew();
    clock.advance(1_500);
    // The dead worker's lease lapsed (3 s without a renewal); the live one renewed at 2 s.
    const taken = await live.tryAcquire('p3', 2, 'cell-3');
    expect(taken).toBeDefined();
    expect(taken!.slot).not.toBe(kept!.slot);
    expect(await dead.tryAcquire('p3', 2, 'cell-4')).toBeUndefined();
    // The dead worker coming back cannot give back a slot that is no longer its own.
    await dead.renew();
    expect(await live.inUse('p3')).toBe(2);
  });

  it("a hold's release frees only its own row, not a later hold of the same slot by this worker", async () => {
    const clock = new ManualClock(4_000_000);
    const slots = new ProviderSlots(db, clock, { owner: 'stalled', leaseMs: 3_000 });
    const first = await slots.tryAcquire('p6', 1, 'cell-1');
    // The first hold stalls past its lease (no renewal); the same worker takes the slot for another cell.
    clock.advance(3_500);
    const second = await slots.tryAcquire('p6', 1, 'cell-2');
    expect(second?.slot).toBe(first!.slot);
    await first!.release();
    expect(await slots.inUse('p6')).toBe(1);
    expect(await slots.tryAcquire('p6', 1, 'cell-3')).toBeUndefined();
    await second!.release();
    expect(await slots.inUse('p6')).toBe(0);
  });

  it('a release the database failed is given back on the next renewal', async () => {
    const clock = new ManualClock(5_000_000);
    let failNextRelease = false;
    // The real database, with one statement made to fail as a dropped connection would.
    const flaky = {
      query: async <T>(sql: string, params?: unknown[]) => {
        if (failNextRelease && sql.includes('SET owner = NULL')) {
          failNextRelease = false;
          throw new Error('connection terminated');
        }
        return db.query<T>(sql, params);
      },
      exec: (sql: string) => db.exec(sql),
    };
    const slots = new ProviderSlots(flaky, clock, { owner: 'flaky', leaseMs: 60_000 });
    const held = await slots.tryAcquire('p7', 1, 'cell-1');
    failNextRelease = true;
    await expect(held!.release()).rejects.toThrow('connection terminated');
    expect(await slots.inUse('p7')).toBe(1);
    await slots.renew();
    expect(await slots.inUse('p7')).toBe(0);
    expect(await slots.tryAcquire('p7', 1, 'cell-2')).toBeDefined();
  });

  it('acquire() waits for a slot: a release in this process wakes the first waiter at once', async () => {
    const slots = new ProviderSlots(db, systemClock, { owner: 'w', leaseMs: 60_000, maxPollMs: 10_000 });
    const held = await slots.tryAcquire('p4', 1, 'cell-1');
    const started = Date.now();
    const waiting = slots.acquire('p4', 1, 'cell-2', { maxWaitMs: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await held!.release();
    const got = await waiting;
    expect(got?.slot).toBe(0);
    // Woken by the release, not by the (10 s) poll.
    expect(Date.now() - started).toBeLessThan(5_000);
    await got!.release();
  });

  it('acquire() gives up after maxWaitMs, and an aborted wait throws', async () => {
    const clock = new ManualClock(3_000_000);
    const slots = new ProviderSlots(db, clock, { owner: 'w2', leaseMs: 600_000 });
    await slots.tryAcquire('p5', 1, 'cell-1');
    expect(await slots.acquire('p5', 1, 'cell-2', { maxWaitMs: 1_000 })).toBeUndefined();
    const abort = new AbortController();
    abort.abort();
    await expect(slots.acquire('p5', 1, 'cell-3', { signal: abort.signal })).rejects.toThrow();
  });
});

describe.skipIf(!postgresUrl)('ProviderSlots on a PostgreSQL server, many workers at once', () => {
  let pools: Db[] = [];
  beforeAll(async () => {
    const url = await createTestDatabase(postgresUrl!);
    // Three "processes", each its own pool of connections, all taking slots of one provider together.
    pools = [await openDatabase({ url, maxConnections: 8 })];
    pools.push(
      await openDatabase({ url, maxConnections: 8 }),
      await openDatabase({ url, maxConnections: 8 }),
    );
  }, 60_000);
  afterAll(async () => {
    for (const pool of pools) await pool.close();
  });

  it('48 concurrent takers on 3 pools never hold more than the limit at once, and all get through', async () => {
    const limit = 3;
    let holding = 0;
    let most = 0;
    let served = 0;
    const workers = pools.map(
      (db, i) => new ProviderSlots(db, systemClock, { owner: `worker-${i}`, leaseMs: 60_000, maxPollMs: 20 }),
    );
    await Promise.all(
      Array.from({ length: 48 }, async (_, n) => {
        const slots = workers[n % workers.length]!;
        const hold = await slots.acquire('openai', limit, `cell-${n}`, { maxWaitMs: 60_000 });
        expect(hold).toBeDefined();
        holding++;
        most = Math.max(most, holding);
        await new Promise((resolve) => setTimeout(resolve, 5 + (n % 4) * 5));
        holding--;
        served++;
        await hold!.release();
      }),
    );
    expect(served).toBe(48);
    expect(most).toBe(limit);
    const rows = await pools[0]!.query<{ n: string }>(
      "SELECT count(*) AS n FROM provider_slots WHERE provider = 'openai' AND owner IS NOT NULL",
    );
    expect(Number(rows[0]!.n)).toBe(0);
  }, 60_000);
});
