import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../catalog/db.ts';
import { newImageId } from '../catalog/ids.ts';
import { UsageRepo } from '../catalog/usage.ts';
import { PixelError } from '../protocol/errors.ts';
import { ManualClock } from '../providers/reliability/manual-clock.ts';
import { BUDGET_CACHE_MS, costOf, createBudgetCheck } from './budget-gate.ts';

// Mid-month, so spend recorded "now" counts for this month.
const NOW = Date.UTC(2026, 11, 15, 12);

describe('the team budget gate on PGlite', () => {
  let db: Db;
  let usage: UsageRepo;
  beforeAll(async () => {
    db = await openDatabase({ memory: true });
    usage = new UsageRepo(db);
  });
  afterAll(async () => {
    await db.close();
  });

  /** One stored image of `team` costing `costUsd`, as another process's generation would leave it. */
  const spend = async (team: string, costUsd: number, at: number) => {
    const id = newImageId();
    await db.query(
      `INSERT INTO images (id, team, model, route, provider, blob_key, sha256, byte_size, media_type, width, height,
         prompt, cost_usd, created_at)
       VALUES ($1, $2, 'm', 'r', 'p', 'k', $3, 1, 'image/png', 1, 1, 'x', $4, $5)`,
      [id, team, createHash('sha256').update(id).digest('hex'), costUsd, new Date(at)],
    );
  };

  const refusal = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(PixelError.isInstance(error)).toBe(true);
    return error as PixelError;
  };

  it('counts generations in flight at the last cost seen: a burst stops before the line, not after', async () => {
    const clock = new ManualClock(NOW);
    const gate = createBudgetCheck(db, clock);
    await usage.setTeamBudget('burst', 1, NOW);
    // The first generation's cost is not known yet: it passes, and settles at $0.30.
    const first = await gate.hold('burst');
    await spend('burst', 0.3, NOW);
    first(0.3);
    // $0.30 spent; two more in flight would make $0.90, a third $1.20.
    const second = await gate.hold('burst');
    const third = await gate.hold('burst');
    const over = await refusal(gate.hold('burst'));
    expect(over.code).toBe('resource_exhausted');
    expect(over.field).toBe('team_budget');
    expect(over.message).toMatch(/2 generations in flight/);
    // A failed generation costs nothing and frees its place at once.
    third(null);
    const fourth = await gate.hold('burst');
    second(0);
    fourth(0);
  });

  it('holds at the same moment near the line count each other: only as many pass as the budget allows', async () => {
    const clock = new ManualClock(NOW);
    const gate = createBudgetCheck(db, clock);
    await usage.setTeamBudget('rush', 10, NOW);
    await spend('rush', 8, NOW);
    const first = await gate.hold('rush');
    await spend('rush', 0.5, NOW);
    first(0.5);
    // $8.50 spent, within 20 % of $10: every hold reads the spend again, and ten arrive at once.
    clock.advance(1);
    const holds = await Promise.allSettled(Array.from({ length: 10 }, () => gate.hold('rush')));
    const passed = holds.filter((h) => h.status === 'fulfilled');
    // $8.50 + 3 × $0.50 = $10: three fit, the fourth could pass the line.
    expect(passed).toHaveLength(3);
    for (const h of passed) (h as PromiseFulfilledResult<(cost: number | null) => void>).value(null);
    // Released at no cost: three fit again.
    const again = await Promise.allSettled(Array.from({ length: 5 }, () => gate.hold('rush')));
    expect(again.filter((h) => h.status === 'fulfilled')).toHaveLength(3);
  });

  it('one gate per database and clock: every surface of a process shares its count', () => {
    const clock = new ManualClock(NOW);
    expect(createBudgetCheck(db, clock)).toBe(createBudgetCheck(db, clock));
    expect(createBudgetCheck(db, new ManualClock(NOW))).not.toBe(createBudgetCheck(db, clock));
  });

  it('a settled cost counts at once, without waiting for the spend to be read again', async () => {
    const clock = new ManualClock(NOW);
    const gate = createBudgetCheck(db, clock);
    await usage.setTeamBudget('settle', 10, NOW);
    for (let i = 0; i < 2; i++) {
      const release = await gate.hold('settle');
      await spend('settle', 3, NOW);
      release(3);
    }
    // $6 settled here (far from the line, so not read again): one more at $3 fits, a second would make $12.
    clock.advance(1);
    const held = await gate.hold('settle');
    const over = await refusal(gate.hold('settle'));
    expect(over.reason).toBe('budget_exhausted');
    expect(over.message).toMatch(/\$6\.0000 of its monthly budget of \$10\.00 with 1 generation in flight/);
    await spend('settle', 3, NOW);
    held(3);
    // At $9 it is near the line: read again, and refused once the stored spend reaches the budget.
    await spend('settle', 1, NOW);
    const spent = await refusal(gate('settle'));
    expect(spent.message).toMatch(/\$10\.0000 of its monthly budget/);
  });

  it('far from the line the spend is cached; near it, it is read before every generation', async () => {
    const clock = new ManualClock(NOW);
    const gate = createBudgetCheck(db, clock);
    await usage.setTeamBudget('shared', 10, NOW);
    await gate('shared');
    // Another process spends $9.50: far from the line when last read, so not seen until the cache lapses.
    await spend('shared', 9.5, NOW);
    clock.advance(BUDGET_CACHE_MS - 1);
    await gate('shared');
    clock.advance(2);
    await gate('shared');
    // Now within 20% of the budget: the next $0.50 spent elsewhere is seen at once.
    await spend('shared', 0.5, NOW);
    clock.advance(1);
    const over = await refusal(gate('shared'));
    expect(over.message).toMatch(/\$10\.0000 of its monthly budget of \$10\.00/);
    // Raised elsewhere: seen at once too.
    await usage.setTeamBudget('shared', 20, NOW);
    clock.advance(1);
    await gate('shared');
  });

  it('a team without a budget holds nothing', async () => {
    const gate = createBudgetCheck(db, new ManualClock(NOW));
    const release = await gate.hold('free');
    release(5);
    await gate('free');
  });

  it('reads the cost a generate-and-store answer added: replays cost nothing, unknown prices stay unknown', () => {
    expect(costOf({ replayed: true, images: [{ costUsd: 1 }] })).toBe(0);
    expect(costOf({ images: [{ costUsd: 0.25 }, { costUsd: null }, { costUsd: 0.5 }] })).toBe(0.75);
    expect(costOf({ images: [{ costUsd: null }] })).toBeNull();
    expect(costOf({ gate: { spentUsd: 0.4 }, images: [{ costUsd: 0.1 }] })).toBe(0.4);
  });
});
