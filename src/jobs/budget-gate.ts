import type { Queryable } from '../catalog/db.ts';
import { teamOverBudget, UsageRepo } from '../catalog/usage.ts';
import { PixelError } from '../protocol/errors.ts';
import type { Clock } from '../providers/reliability/clock.ts';
import type { Caller } from '../server/image-service.ts';

/** How long a team's budget and spend are trusted before they are read again, far from the budget. */
export const BUDGET_CACHE_MS = 5_000;
/** Within this share of its budget, a team's spend is read again before every generation. */
export const BUDGET_NEAR_SHARE = 0.2;

/** Settles a held generation: its cost (null or 0 when it failed or replayed an earlier answer). */
export type BudgetRelease = (costUsd: number | null) => void;

export interface BudgetCheck {
  /** Throws resource_exhausted naming the budget when the team may not generate now. */
  (team: string): Promise<void>;
  /**
   * Checks, then counts one generation as in flight until the returned release is called with its cost:
   * a team is refused when its spend plus what its generations in flight may cost (each at the last cost
   * seen) would pass the budget, so a burst stops before the line instead of after it.
   */
  hold(team: string): Promise<BudgetRelease>;
}

interface Entry {
  /** When the spend was last read (ms; -Infinity before the first read). */
  at: number;
  budget: number | null;
  /** As read, plus the cost of every generation settled here since. */
  spent: number;
  /** Generations of this team in flight in this process. */
  inflight: number;
  /** Cost of this team's last generation here (the estimate for the ones in flight). */
  lastCost: number;
  /** The read under way, shared by every check that needs it. */
  reading?: Promise<void>;
  /** Costs settled while `reading` was out (the read may not have seen them: counted on top, to be safe). */
  settledDuringRead: number;
}

/** One gate per database and clock, so every surface of a process (RPC, REST, its batch worker) shares one count. */
const gates = new WeakMap<object, WeakMap<object, BudgetCheck>>();

/**
 * The monthly team budget gate. Teams without a budget cost one cached lookup. For a team with one, the
 * generations settled in this process add their cost at once, and the ones in flight count at the last
 * cost seen; the spend is read again every BUDGET_CACHE_MS, and before every generation once the team is
 * within BUDGET_NEAR_SHARE of its budget (so other processes' spend is seen at once where it matters).
 * One entry per team is updated in place and one read runs at a time, so checks at the same moment all
 * count each other. What is left: generations in flight in other processes when the line is crossed.
 */
export function createBudgetCheck(db: Queryable, clock: Pick<Clock, 'now'> = Date): BudgetCheck {
  const byClock = gates.get(db) ?? new WeakMap<object, BudgetCheck>();
  gates.set(db, byClock);
  const existing = byClock.get(clock);
  if (existing) return existing;
  const check = newBudgetCheck(db, clock);
  byClock.set(clock, check);
  return check;
}

function newBudgetCheck(db: Queryable, clock: Pick<Clock, 'now'>): BudgetCheck {
  const usage = new UsageRepo(db);
  const cache = new Map<string, Entry>();

  const read = async (team: string, entry: Entry): Promise<void> => {
    entry.settledDuringRead = 0;
    const now = clock.now();
    const budget = await usage.teamBudget(team);
    const spent = budget === null ? 0 : await usage.spentThisMonth(team, now);
    entry.budget = budget;
    entry.spent = spent + entry.settledDuringRead;
    entry.at = now;
  };

  const current = async (team: string): Promise<Entry> => {
    let entry = cache.get(team);
    if (!entry) {
      entry = {
        at: Number.NEGATIVE_INFINITY,
        budget: null,
        spent: 0,
        inflight: 0,
        lastCost: 0,
        settledDuringRead: 0,
      };
      cache.set(team, entry);
      if (cache.size > 10_000) {
        for (const [key, old] of cache) {
          if (old.inflight === 0 && !old.reading) {
            cache.delete(key);
            break;
          }
        }
      }
    }
    const near = entry.budget !== null && entry.budget - entry.spent <= entry.budget * BUDGET_NEAR_SHARE;
    if (clock.now() - entry.at <= BUDGET_CACHE_MS && !near && !entry.reading) return entry;
    const mine = entry;
    mine.reading ??= read(team, mine).finally(() => {
      mine.reading = undefined;
    });
    await mine.reading;
    return mine;
  };

  const refuse = (team: string, entry: Entry): void => {
    if (entry.budget === null) return;
    if (entry.spent >= entry.budget) throw teamOverBudget(team, entry.budget, entry.spent);
    const committed = entry.spent + (entry.inflight + 1) * entry.lastCost;
    if (committed > entry.budget + 1e-9) {
      throw new PixelError({
        code: 'resource_exhausted',
        reason: 'budget_exhausted',
        field: 'team_budget',
        message:
          `team ${team} has spent $${entry.spent.toFixed(4)} of its monthly budget of $${entry.budget.toFixed(2)} ` +
          `with ${entry.inflight} generation${entry.inflight === 1 ? '' : 's'} in flight; one more could pass it (team_budget)`,
      });
    }
  };

  const check = (async (team: string) => {
    refuse(team, await current(team));
  }) as BudgetCheck;

  check.hold = async (team: string) => {
    const entry = await current(team);
    refuse(team, entry);
    if (entry.budget === null) return () => {};
    entry.inflight++;
    let settled = false;
    return (costUsd) => {
      if (settled) return;
      settled = true;
      entry.inflight = Math.max(0, entry.inflight - 1);
      if (costUsd !== null && costUsd > 0) {
        entry.spent += costUsd;
        entry.lastCost = costUsd;
        if (entry.reading) entry.settledDuringRead += costUsd;
      }
    };
  };
  return check;
}

/** The cost a generate-and-store answer added to the catalogue (0 for a replay of an earlier answer). */
export function costOf(result: unknown): number | null {
  const r = result as {
    replayed?: boolean;
    images?: Array<{ costUsd: number | null }>;
    gate?: { spentUsd: number };
  };
  if (r.replayed) return 0;
  if (r.gate) return r.gate.spentUsd;
  return (r.images ?? []).reduce<number | null>(
    (sum, image) => (image.costUsd === null ? sum : (sum ?? 0) + image.costUsd),
    null,
  );
}

/** The image service with the team budget checked (and each generation held) before every generation. */
export function withTeamBudget<
  T extends { generateAndStore(input: never, caller: Caller, ...rest: never[]): Promise<unknown> },
>(images: T, check: BudgetCheck): T {
  const generateAndStore = async (input: never, caller: Caller, ...rest: never[]) => {
    const release = await check.hold(caller.team);
    let cost: number | null = null;
    try {
      const result = await images.generateAndStore(input, caller, ...rest);
      cost = costOf(result);
      return result;
    } finally {
      release(cost);
    }
  };
  return new Proxy(images, {
    get(target, property) {
      if (property === 'generateAndStore') return generateAndStore;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
