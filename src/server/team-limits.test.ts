import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Db, openDatabase } from '../catalog/db.ts';
import { createTestDatabase } from '../catalog/testing/postgres-server.ts';
import { PixelError } from '../protocol/errors.ts';
import { ManualClock } from '../providers/reliability/manual-clock.ts';
import type { Caller } from './image-service.ts';
import {
  createTeamLimiter,
  LEASE_MS,
  type LimitKind,
  WINDOW_MS,
  withGenerationLimit,
} from './team-limits.ts';

const grocery: Caller = { team: 'grocery', role: 'member', keyId: 'key_a' };
const grocery2: Caller = { team: 'grocery', role: 'member', keyId: 'key_b' };
const butcher: Caller = { team: 'butcher', role: 'member', keyId: 'key_c' };

async function refusal(promise: Promise<unknown>): Promise<PixelError> {
  try {
    await promise;
  } catch (error) {
    if (PixelError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

const none = { teamRpm: 0, teamConcurrency: 0, keyRpm: 0, keyConcurrency: 0 };

function suite(name: string, open: () => Promise<Db>) {
  describe(name, () => {
    let db: Db;
    beforeAll(async () => {
      db = await open();
    });
    afterAll(async () => {
      await db.close();
    });

    it('counts requests per minute per team across limiters sharing the database, with Retry-After', async () => {
      const clock = new ManualClock(100 * WINDOW_MS);
      const rejected: Array<[string, LimitKind]> = [];
      const make = () =>
        createTeamLimiter({
          db,
          settings: { ...none, teamRpm: 3 },
          clock,
          renewTimer: false,
          onRejected: (team, kind) => rejected.push([team, kind]),
        });
      const a = make();
      const b = make();
      await a.admitRequest(grocery);
      await b.admitRequest(grocery2);
      await a.admitRequest(grocery);
      clock.advance(10_000);
      const over = await refusal(b.admitRequest(grocery));
      expect(over.code).toBe('resource_exhausted');
      expect(over.field).toBe('team');
      expect(over.httpStatus).toBe(429);
      // The window ends 50 s from now.
      expect(over.retryAfterMs).toBe(50_000);
      expect(rejected).toEqual([['grocery', 'team_rpm']]);
      // Another team is not affected.
      await a.admitRequest(butcher);
      // Half-way into the next minute the previous minute still weighs half: 3 * 0.5 + 1 <= 3 admits one more.
      clock.advance(50_000 + 30_000);
      await a.admitRequest(grocery);
      expect((await refusal(a.admitRequest(grocery))).code).toBe('resource_exhausted');
      clock.advance(WINDOW_MS * 2);
      await a.admitRequest(grocery);
    });

    it('limits per key too, and a refusal by the team limit does not use up the key', async () => {
      const clock = new ManualClock(500 * WINDOW_MS);
      const limiter = createTeamLimiter({
        db,
        settings: { ...none, keyRpm: 2, teamRpm: 3 },
        clock,
        renewTimer: false,
      });
      await limiter.admitRequest(grocery);
      await limiter.admitRequest(grocery);
      expect((await refusal(limiter.admitRequest(grocery))).field).toBe('api_key');
      await limiter.admitRequest(grocery2);
      expect((await refusal(limiter.admitRequest(grocery2))).field).toBe('team');
      const rows = await db.query<{ count: number }>(
        `SELECT count FROM limit_windows WHERE scope = 'key:key_b' AND window_start = $1::bigint`,
        [500 * WINDOW_MS],
      );
      expect(Number(rows[0]?.count)).toBe(1);
    });

    it('limits concurrent generations per team across processes; a dead process’s leases lapse', async () => {
      const clock = new ManualClock(1_000 * WINDOW_MS);
      const rejected: string[] = [];
      const make = () =>
        createTeamLimiter({
          db,
          settings: { ...none, teamConcurrency: 2 },
          clock,
          renewTimer: false,
          onRejected: (_team, kind) => rejected.push(kind),
        });
      const a = make();
      const b = make();
      const first = await a.acquire(grocery);
      await b.acquire(grocery2); // held by b, which then "dies" without releasing
      const over = await refusal(a.acquire(grocery));
      expect([over.code, over.field, over.reason]).toEqual([
        'resource_exhausted',
        'team',
        'concurrency_limited',
      ]);
      expect(over.retryAfterMs).toBe(1000);
      await a.acquire(butcher).then((l) => l.release());
      await first.release();
      const again = await a.acquire(grocery);
      expect((await refusal(a.acquire(grocery))).code).toBe('resource_exhausted');
      // a renews its own leases; b's lapse.
      clock.advance(LEASE_MS - 1_000);
      await a.renew();
      clock.advance(2_000);
      const third = await a.acquire(grocery);
      expect((await refusal(a.acquire(grocery))).code).toBe('resource_exhausted');
      await again.release();
      await third.release();
      expect(rejected).toEqual(['team_concurrency', 'team_concurrency', 'team_concurrency']);
    });

    it('gives named teams their own limits (0 = none), others the default', async () => {
      const clock = new ManualClock(4_000 * WINDOW_MS);
      const limiter = createTeamLimiter({
        db,
        settings: {
          ...none,
          teamRpm: 1,
          teamConcurrency: 1,
          teams: { grocery: { rpm: 3 }, butcher: { rpm: 0, concurrency: 2 } },
        },
        clock,
        renewTimer: false,
      });
      for (let i = 0; i < 3; i++) await limiter.admitRequest(grocery);
      expect((await refusal(limiter.admitRequest(grocery))).message).toMatch(/3 requests per minute/);
      for (let i = 0; i < 10; i++) await limiter.admitRequest(butcher);
      const other: Caller = { team: 'bakery', role: 'member' };
      await limiter.admitRequest(other);
      expect((await refusal(limiter.admitRequest(other))).message).toMatch(/1 requests per minute/);
      const leases = [await limiter.acquire(butcher), await limiter.acquire(butcher)];
      expect((await refusal(limiter.acquire(butcher))).message).toMatch(/2 generations at once/);
      const g = await limiter.acquire(grocery); // grocery: the default concurrency of 1
      expect((await refusal(limiter.acquire(grocery2))).code).toBe('resource_exhausted');
      for (const lease of [...leases, g]) await lease.release();
    });

    it('takes exactly the limit when many ask at once', async () => {
      const clock = new ManualClock(2_000 * WINDOW_MS);
      const limiters = [0, 1, 2].map(() =>
        createTeamLimiter({ db, settings: { ...none, teamConcurrency: 3 }, clock, renewTimer: false }),
      );
      const caller: Caller = { team: 'burst', role: 'member' };
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) => limiters[i % 3]!.acquire(caller)),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      for (const r of results) if (r.status === 'fulfilled') await r.value.release();
    });

    it('wraps the image use cases so each generation holds a slot until it ends', async () => {
      const clock = new ManualClock(3_000 * WINDOW_MS);
      const limiter = createTeamLimiter({
        db,
        settings: { ...none, keyConcurrency: 1 },
        clock,
        renewTimer: false,
      });
      // Each generation that gets past the limiter announces itself and waits to be let go.
      const entered: Array<() => void> = [];
      let onEnter: (() => void) | undefined;
      const images = {
        secret: 42,
        generateAndStore: (_input: never, _caller: Caller) =>
          new Promise<string>((resolve) => {
            entered.push(() => resolve('done'));
            onEnter?.();
          }),
        count(this: { secret: number }) {
          return this.secret;
        },
      };
      const inside = () =>
        new Promise<void>((resolve) => {
          onEnter = resolve;
        });
      const limited = withGenerationLimit(images, limiter);
      expect(limited.count()).toBe(42);
      const first = inside();
      const running = limited.generateAndStore({} as never, grocery);
      await first;
      expect((await refusal(limited.generateAndStore({} as never, grocery))).field).toBe('api_key');
      expect(entered).toHaveLength(1);
      entered[0]!();
      expect(await running).toBe('done');
      const second = inside();
      const next = limited.generateAndStore({} as never, grocery);
      await second;
      entered[1]!();
      expect(await next).toBe('done');
    });
  });
}

suite('team limits on PGlite', () => openDatabase({ memory: true }));

const postgresUrl = inject('postgresUrl');
describe.skipIf(!postgresUrl)('on PostgreSQL', () => {
  suite('team limits on PostgreSQL', async () =>
    openDatabase({ url: await createTestDatabase(postgresUrl!), maxConnections: 6 }));
});
