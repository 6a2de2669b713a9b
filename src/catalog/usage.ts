import { invalidArgument, PixelError } from '../protocol/errors.ts';
import type { Queryable } from './db.ts';

export interface UsageRow {
  team: string;
  application: string | null;
  model: string;
  images: number;
  costUsd: number;
}

export interface RunUsageRow {
  runId: string;
  team: string;
  kind: string;
  images: number;
  costUsd: number;
}

export interface UsageReport {
  since: string | null;
  byKey: UsageRow[];
  byRun: RunUsageRow[];
  totalImages: number;
  totalCostUsd: number;
}

/** Start of the calendar month (UTC) holding `now`. */
export function monthStart(now: number): Date {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
}

/**
 * What every image cost, as the catalogue recorded it (every stored image's row carries its cost
 * estimate), per team, application and model, and per batch run; and the teams' monthly budgets.
 */
export class UsageRepo {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  async report(options: { team?: string; since?: Date } = {}): Promise<UsageReport> {
    const params = [options.team ?? null, options.since?.toISOString() ?? null];
    const rows = await this.#db.query<{
      team: string;
      application: string | null;
      model: string;
      n: string;
      cost: string | null;
    }>(
      `SELECT team, application, model, count(*) AS n, sum(cost_usd) AS cost FROM images
       WHERE ($1::text IS NULL OR team = $1) AND ($2::timestamptz IS NULL OR created_at >= $2)
       GROUP BY team, application, model ORDER BY sum(cost_usd) DESC NULLS LAST, team, model`,
      params,
    );
    const runs = await this.#db.query<{
      id: string;
      team: string;
      kind: string;
      n: string;
      cost: string | null;
    }>(
      `SELECT r.id, r.team, r.kind, count(c.*) FILTER (WHERE c.state = 'done') AS n, sum(c.cost_usd) AS cost
       FROM batch_runs r JOIN batch_cells c ON c.run_id = r.id
       WHERE ($1::text IS NULL OR r.team = $1)
         AND ($2::timestamptz IS NULL OR r.created_ms >= (extract(epoch FROM $2::timestamptz) * 1000)::bigint)
       GROUP BY r.id, r.team, r.kind ORDER BY r.id DESC`,
      params,
    );
    const byKey = rows.map((r) => ({
      team: r.team,
      application: r.application,
      model: r.model,
      images: Number(r.n),
      costUsd: Number(r.cost ?? 0),
    }));
    return {
      since: options.since?.toISOString() ?? null,
      byKey,
      byRun: runs.map((r) => ({
        runId: r.id,
        team: r.team,
        kind: r.kind,
        images: Number(r.n),
        costUsd: Number(r.cost ?? 0),
      })),
      totalImages: byKey.reduce((s, r) => s + r.images, 0),
      totalCostUsd: byKey.reduce((s, r) => s + r.costUsd, 0),
    };
  }

  async setTeamBudget(team: string, monthlyUsd: number | null, now: number): Promise<void> {
    if (monthlyUsd === null) {
      await this.#db.query('DELETE FROM team_budgets WHERE team = $1', [team]);
      return;
    }
    if (!Number.isFinite(monthlyUsd) || monthlyUsd < 0) {
      throw invalidArgument('monthly_usd', `a budget must be a non-negative amount, got ${monthlyUsd}`);
    }
    await this.#db.query(
      `INSERT INTO team_budgets (team, monthly_usd, updated_ms) VALUES ($1, $2, $3)
       ON CONFLICT (team) DO UPDATE SET monthly_usd = EXCLUDED.monthly_usd, updated_ms = EXCLUDED.updated_ms`,
      [team, monthlyUsd, now],
    );
  }

  async teamBudget(team: string): Promise<number | null> {
    const rows = await this.#db.query<{ monthly_usd: string }>(
      'SELECT monthly_usd FROM team_budgets WHERE team = $1',
      [team],
    );
    return rows[0] ? Number(rows[0].monthly_usd) : null;
  }

  async spentThisMonth(team: string, now: number): Promise<number> {
    const rows = await this.#db.query<{ s: string | null }>(
      'SELECT sum(cost_usd) AS s FROM images WHERE team = $1 AND created_at >= $2',
      [team, monthStart(now).toISOString()],
    );
    return Number(rows[0]?.s ?? 0);
  }

  /** Throws resource_exhausted naming the budget when the team has spent its monthly budget. */
  async assertTeamWithinBudget(team: string, now: number): Promise<void> {
    const budget = await this.teamBudget(team);
    if (budget === null) return;
    const spent = await this.spentThisMonth(team, now);
    if (spent >= budget) throw teamOverBudget(team, budget, spent);
  }
}

export function teamOverBudget(team: string, budget: number, spent: number): PixelError {
  return new PixelError({
    code: 'resource_exhausted',
    reason: 'budget_exhausted',
    field: 'team_budget',
    retryable: false,
    message: `team ${team} has spent $${spent.toFixed(4)} of its monthly budget of $${budget.toFixed(2)} (team_budget)`,
  });
}
