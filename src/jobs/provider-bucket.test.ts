import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../catalog/db.ts';
import { ManualClock } from '../providers/reliability/manual-clock.ts';
import { capacityOf, ProviderBucket } from './provider-bucket.ts';

let db: Db;
beforeAll(async () => {
  db = await openDatabase({ memory: true });
});
afterAll(async () => {
  await db.close();
});

describe('ProviderBucket', () => {
  it('lets one second of rpm through at once, then one token per 60000/rpm ms', async () => {
    const clock = new ManualClock(1_000_000);
    const bucket = new ProviderBucket(db, clock);
    const limit = { rpm: 120 };
    expect(capacityOf(limit)).toBe(2);
    expect(await bucket.tryTake('p1', limit)).toEqual({ taken: true });
    expect(await bucket.tryTake('p1', limit)).toEqual({ taken: true });
    expect(await bucket.tryTake('p1', limit)).toEqual({ taken: false, waitMs: 500 });
    clock.advance(250);
    expect(await bucket.tryTake('p1', limit)).toEqual({ taken: false, waitMs: 250 });
    clock.advance(250);
    expect(await bucket.tryTake('p1', limit)).toEqual({ taken: true });
  });

  it('two processes sharing the database share one bucket', async () => {
    const clock = new ManualClock(2_000_000);
    const a = new ProviderBucket(db, clock);
    const b = new ProviderBucket(db, clock);
    const limit = { rpm: 60, burst: 1 };
    expect((await a.tryTake('p2', limit)).taken).toBe(true);
    expect((await b.tryTake('p2', limit)).taken).toBe(false);
    clock.advance(1_000);
    expect((await b.tryTake('p2', limit)).taken).toBe(true);
    expect((await a.tryTake('p2', limit)).taken).toBe(false);
  });

  it('take() waits on the clock for its token; over 60 s it lets exactly rpm through', async () => {
    const clock = new ManualClock(3_000_000);
    const bucket = new ProviderBucket(db, clock);
    const limit = { rpm: 30, burst: 1 };
    const start = clock.now();
    let taken = 0;
    while (clock.now() - start < 60_000) {
      expect(await bucket.take('p3', limit)).toBe(true);
      if (clock.now() - start < 60_000) taken++;
    }
    expect(taken).toBe(30);
  });

  it("a provider's wait blocks every taker until it passes, and the bucket starts empty after", async () => {
    const clock = new ManualClock(4_000_000);
    const bucket = new ProviderBucket(db, clock);
    const limit = { rpm: 600 };
    expect((await bucket.tryTake('p4', limit)).taken).toBe(true);
    await bucket.block('p4', clock.now() + 5_000);
    expect(await bucket.tryTake('p4', limit)).toEqual({ taken: false, waitMs: 5_000 });
    clock.advance(5_000);
    expect(await bucket.tryTake('p4', limit)).toEqual({ taken: false, waitMs: 100 });
    clock.advance(100);
    expect((await bucket.tryTake('p4', limit)).taken).toBe(true);
    expect(await bucket.blockedFor('p4')).toBe(0);
  });

  it('no rpm: takes at once, unless the provider asked to wait', async () => {
    const clock = new ManualClock(5_000_000);
    const bucket = new ProviderBucket(db, clock);
    expect(await bucket.take('p5', { rpm: 0 })).toBe(true);
    await bucket.block('p5', clock.now() + 2_000);
    expect(await bucket.take('p5', { rpm: 0 })).toBe(true);
    expect(clock.sleeps).toEqual([2_000]);
  });

  it('concurrent takers in one process queue locally: about one statement per token, not one per waiter', async () => {
    const clock = new ManualClock(6_000_000);
    let statements = 0;
    const counting = {
      query: <T>(sql: string, params?: unknown[]) => {
        if (sql.includes('WITH b AS')) statements++;
        return db.query<T>(sql, params);
      },
      exec: (sql: string) => db.exec(sql),
    };
    const bucket = new ProviderBucket(counting, clock);
    const limit = { rpm: 60, burst: 1 };
    const results = await Promise.all(Array.from({ length: 10 }, () => bucket.take('p6', limit)));
    expect(results.every(Boolean)).toBe(true);
    // 10 tokens: the first at once, then each after one wait (one failed try + one success).
    expect(statements).toBeLessThanOrEqual(19);
    expect(clock.now() - 6_000_000).toBeGreaterThanOrEqual(9_000);
  });
});
