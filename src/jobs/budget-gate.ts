import type { Queryable } from '../catalog/db.ts';
import { teamOverBudget, UsageRepo } from '../catalog/usage.ts';
import type { Clock } from '../providers/reliability/clock.ts';
import type { Caller } from '../server/image-service.ts';

/** How long a team's budget and spend are trusted before they are read again. */
export const BUDGET_CACHE_MS = 5_000;

/**
 * Refuses a generation for a team that has spent its monthly budget, with resource_exhausted naming the
 * budget. Teams without a budget cost one cached lookup; the spend of a team with one is re-read at most
 * every BUDGET_CACHE_MS (so a burst may pass the line by what it generates in that time).
 */
export function createBudgetCheck(db: Queryable, clock: Pick<Clock, 'now'> = Date) {
  const usage = new UsageRepo(db);
  const cache = new Map<string, { at: number; budget: number | null; spent: number }>();
  return async (team: string): Promise<void> => {
    const now = clock.now();
    let entry = cache.get(team);
    if (!entry || now - entry.at > BUDGET_CACHE_MS) {
      const budget = await usage.teamBudget(team);
      entry = { at: now, budget, spent: budget === null ? 0 : await usage.spentThisMonth(team, now) };
      cache.set(team, entry);
      if (cache.size > 10_000) cache.delete(cache.keys().next().value!);
    }
    if (entry.budget !== null && entry.spent >= entry.budget)
      throw teamOverBudget(team, entry.budget, entry.spent);
  };
}

/** The image service with the team budget checked before every generation. */
export function withTeamBudget<
  T extends { generateAndStore(input: never, caller: Caller, ...rest: never[]): Promise<unknown> },
>(images: T, check: (team: string) => Promise<void>): T {
  const generateAndStore = async (input: never, caller: Caller, ...rest: never[]) => {
    await check(caller.team);
    return images.generateAndStore(input, caller, ...rest);
  };
  return new Proxy(images, {
    get(target, property) {
      if (property === 'generateAndStore') return generateAndStore;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
