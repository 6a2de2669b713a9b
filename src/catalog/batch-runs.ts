import { PixelError } from '../protocol/errors.ts';
import type { Queryable } from './db.ts';

export type RunKind = 'experiment' | 'production';
export type RunState = 'running' | 'paused' | 'cancelled' | 'done' | 'budget_stopped';
export const CELL_STATES = ['pending', 'running', 'done', 'failed', 'skipped'] as const;
export type CellState = (typeof CELL_STATES)[number];

/** A model with optional unified-parameter overrides (style, cfgScale, quality…). */
export interface Candidate {
  model: string;
  overrides: Record<string, unknown>;
}

export interface SampleSpec {
  mode: 'all' | 'first' | 'random';
  n?: number;
  seed?: number;
}

export interface RunRecord {
  id: string;
  kind: RunKind;
  team: string;
  datasetId: string;
  application: string;
  candidates: Candidate[];
  sample: SampleSpec & { items: number[] };
  gate: boolean;
  economy: boolean;
  deadlineMs: number | null;
  budgetUsd: number | null;
  state: RunState;
  stopReason: string | null;
  cellCount: number;
  createdMs: number;
  updatedMs: number;
}

export interface CellKey {
  runId: string;
  item: number;
  candidate: number;
}

export interface CellRecord extends CellKey {
  provider: string;
  state: CellState;
  attempts: number;
  leaseOwner: string | null;
  leaseUntilMs: number | null;
  imageIds: string[];
  costUsd: number | null;
  latencyMs: number | null;
  judgePass: boolean | null;
  error: { code: string; reason?: string; message: string } | null;
  via: string | null;
  finishedMs: number | null;
}

/** A cell with the dataset item it is for (null fields when the item is gone). */
export interface CellWithItem extends CellRecord {
  externalId: string | null;
  category: string | null;
  vars: Record<string, string>;
  line: number | null;
}

export interface CellCounts {
  pending: number;
  running: number;
  done: number;
  failed: number;
  skipped: number;
  costUsd: number;
}

const CHUNK = 500;

/** Runs and their cells (one per item × candidate): the state of every batch, in the catalogue. */
export class BatchRunRepo {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  async create(run: RunRecord, cells: Array<{ item: number; candidate: number; provider: string }>) {
    await this.#db.query(
      `INSERT INTO batch_runs (id, kind, team, dataset_id, application, candidates, sample, gate, economy,
         deadline_ms, budget_usd, state, cell_count, created_ms, updated_ms)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9, $10, $11, $12, $13, $14, $14)`,
      [
        run.id,
        run.kind,
        run.team,
        run.datasetId,
        run.application,
        JSON.stringify(run.candidates),
        JSON.stringify(run.sample),
        run.gate,
        run.economy,
        run.deadlineMs,
        run.budgetUsd,
        run.state,
        cells.length,
        run.createdMs,
      ],
    );
    for (let start = 0; start < cells.length; start += CHUNK) {
      const chunk = cells.slice(start, start + CHUNK);
      const values: unknown[] = [run.id];
      const tuples = chunk.map((c) => {
        values.push(c.item, c.candidate, c.provider);
        const b = values.length - 3;
        return `($1, $${b + 1}, $${b + 2}, $${b + 3}, 'pending')`;
      });
      await this.#db.query(
        `INSERT INTO batch_cells (run_id, item_idx, candidate_idx, provider, state) VALUES ${tuples.join(', ')}`,
        values,
      );
    }
  }

  async get(id: string): Promise<RunRecord> {
    const rows = await this.#db.query<RunRow>('SELECT * FROM batch_runs WHERE id = $1', [id]);
    if (!rows[0]) throw new PixelError({ code: 'not_found', field: 'id', message: `run ${id} not found` });
    return toRun(rows[0]);
  }

  async list(options: { team?: string; kind?: RunKind; limit?: number } = {}): Promise<RunRecord[]> {
    const rows = await this.#db.query<RunRow>(
      `SELECT * FROM batch_runs WHERE ($1::text IS NULL OR team = $1) AND ($2::text IS NULL OR kind = $2)
       ORDER BY created_ms DESC, id DESC LIMIT $3`,
      [options.team ?? null, options.kind ?? null, options.limit ?? 100],
    );
    return rows.map(toRun);
  }

  /** Moves a run from one of `from` to `to`; false when it was in none of them. */
  async transition(
    id: string,
    from: RunState[],
    to: RunState,
    now: number,
    reason?: string,
  ): Promise<boolean> {
    const rows = await this.#db.query(
      `UPDATE batch_runs SET state = $3, updated_ms = $4, stop_reason = COALESCE($5, stop_reason)
       WHERE id = $1 AND state = ANY($2::text[]) RETURNING id`,
      [id, from, to, now, reason ?? null],
    );
    return rows.length > 0;
  }

  /** Marks a running run done once none of its cells is pending or running. */
  async finishIfComplete(id: string, now: number): Promise<boolean> {
    const rows = await this.#db.query(
      `UPDATE batch_runs SET state = 'done', updated_ms = $2
       WHERE id = $1 AND state = 'running'
         AND NOT EXISTS (SELECT 1 FROM batch_cells WHERE run_id = $1 AND state IN ('pending', 'running'))
       RETURNING id`,
      [id, now],
    );
    return rows.length > 0;
  }

  /**
   * Claims a cell for `owner` until `leaseUntil`: a pending cell, or a running one whose lease lapsed
   * (its worker died). Returns undefined when the cell is finished or another live worker holds it.
   */
  async claim(key: CellKey, owner: string, now: number, leaseUntil: number): Promise<CellRecord | undefined> {
    const rows = await this.#db.query<CellRow>(
      `UPDATE batch_cells SET state = 'running', lease_owner = $4, lease_until_ms = $6, attempts = attempts + 1
       WHERE run_id = $1 AND item_idx = $2 AND candidate_idx = $3
         AND (state = 'pending' OR (state = 'running' AND (lease_until_ms IS NULL OR lease_until_ms < $5)))
       RETURNING *`,
      [key.runId, key.item, key.candidate, owner, now, leaseUntil],
    );
    return rows[0] ? toCell(rows[0]) : undefined;
  }

  async cell(key: CellKey): Promise<CellRecord | undefined> {
    const rows = await this.#db.query<CellRow>(
      'SELECT * FROM batch_cells WHERE run_id = $1 AND item_idx = $2 AND candidate_idx = $3',
      [key.runId, key.item, key.candidate],
    );
    return rows[0] ? toCell(rows[0]) : undefined;
  }

  async renew(owner: string, leaseUntil: number): Promise<void> {
    await this.#db.query(
      `UPDATE batch_cells SET lease_until_ms = $2 WHERE lease_owner = $1 AND state = 'running'`,
      [owner, leaseUntil],
    );
  }

  async complete(
    key: CellKey,
    owner: string,
    result: {
      imageIds: string[];
      costUsd: number | null;
      latencyMs: number;
      judgePass: boolean | null;
      via: string;
    },
    now: number,
  ): Promise<boolean> {
    const rows = await this.#db.query(
      `UPDATE batch_cells SET state = 'done', image_ids = $5::jsonb, cost_usd = $6, latency_ms = $7,
         judge_pass = $8, via = $9, finished_ms = $10, lease_owner = NULL, lease_until_ms = NULL, error = NULL
       WHERE run_id = $1 AND item_idx = $2 AND candidate_idx = $3 AND state = 'running' AND lease_owner = $4
       RETURNING run_id`,
      [
        key.runId,
        key.item,
        key.candidate,
        owner,
        JSON.stringify(result.imageIds),
        result.costUsd,
        Math.round(result.latencyMs),
        result.judgePass,
        result.via,
        now,
      ],
    );
    return rows.length > 0;
  }

  /** Gives a claimed cell back: `pending` (to be tried again) or `failed` (final), with the reason. */
  async release(
    key: CellKey,
    owner: string,
    state: 'pending' | 'failed' | 'skipped',
    error: CellRecord['error'],
    now: number,
  ): Promise<void> {
    await this.#db.query(
      `UPDATE batch_cells SET state = $5, error = $6::jsonb, lease_owner = NULL, lease_until_ms = NULL,
         finished_ms = CASE WHEN $5 = 'pending' THEN NULL ELSE $7::bigint END
       WHERE run_id = $1 AND item_idx = $2 AND candidate_idx = $3 AND state = 'running' AND lease_owner = $4`,
      [key.runId, key.item, key.candidate, owner, state, error === null ? null : JSON.stringify(error), now],
    );
  }

  /** Cancelling: every cell not started is skipped. */
  async skipPending(runId: string, now: number): Promise<number> {
    const rows = await this.#db.query(
      `UPDATE batch_cells SET state = 'skipped', finished_ms = $2 WHERE run_id = $1 AND state = 'pending' RETURNING 1`,
      [runId, now],
    );
    return rows.length;
  }

  async pendingCells(runId: string): Promise<Array<{ item: number; candidate: number; provider: string }>> {
    const rows = await this.#db.query<{ item_idx: number; candidate_idx: number; provider: string }>(
      `SELECT item_idx, candidate_idx, provider FROM batch_cells WHERE run_id = $1 AND state = 'pending'
       ORDER BY item_idx, candidate_idx`,
      [runId],
    );
    return rows.map((r) => ({
      item: Number(r.item_idx),
      candidate: Number(r.candidate_idx),
      provider: r.provider,
    }));
  }

  async counts(runId: string): Promise<CellCounts> {
    const rows = await this.#db.query<{ state: CellState; n: string; cost: string | null }>(
      'SELECT state, count(*) AS n, sum(cost_usd) AS cost FROM batch_cells WHERE run_id = $1 GROUP BY state',
      [runId],
    );
    const counts: CellCounts = { pending: 0, running: 0, done: 0, failed: 0, skipped: 0, costUsd: 0 };
    for (const row of rows) {
      counts[row.state] = Number(row.n);
      counts.costUsd += Number(row.cost ?? 0);
    }
    return counts;
  }

  /** Cells finished since `sinceMs` (for the rate). */
  async finishedSince(runId: string, sinceMs: number): Promise<number> {
    const rows = await this.#db.query<{ n: string }>(
      `SELECT count(*) AS n FROM batch_cells WHERE run_id = $1 AND state IN ('done', 'failed') AND finished_ms >= $2`,
      [runId, sinceMs],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async cells(runId: string): Promise<CellRecord[]> {
    const rows = await this.#db.query<CellRow>(
      'SELECT * FROM batch_cells WHERE run_id = $1 ORDER BY item_idx, candidate_idx',
      [runId],
    );
    return rows.map(toCell);
  }

  /**
   * One page of a run's cells in (item, candidate) order, each with its dataset item (external id, category,
   * variables, source line): what a compare grid (items × candidates) or a failure list shows. `after`:
   * the last cell of the previous page. `total`: how many cells match the filters, across all pages.
   */
  async listCells(
    runId: string,
    options: {
      state?: CellState;
      candidate?: number;
      after?: { item: number; candidate: number };
      limit: number;
    },
  ): Promise<{ cells: CellWithItem[]; total: number }> {
    const filters = [runId, options.state ?? null, options.candidate ?? null];
    const rows = await this.#db.query<CellRow & ItemColumns>(
      `SELECT c.*, i.external_id, i.category, i.vars, i.line
       FROM batch_cells c
       JOIN batch_runs r ON r.id = c.run_id
       LEFT JOIN dataset_items i ON i.dataset_id = r.dataset_id AND i.idx = c.item_idx
       WHERE c.run_id = $1 AND ($2::text IS NULL OR c.state = $2) AND ($3::int IS NULL OR c.candidate_idx = $3)
         AND ($4::int IS NULL OR (c.item_idx, c.candidate_idx) > ($4::int, $5::int))
       ORDER BY c.item_idx, c.candidate_idx
       LIMIT $6`,
      [...filters, options.after?.item ?? null, options.after?.candidate ?? 0, options.limit],
    );
    const total = await this.#db.query<{ n: string }>(
      `SELECT count(*) AS n FROM batch_cells
       WHERE run_id = $1 AND ($2::text IS NULL OR state = $2) AND ($3::int IS NULL OR candidate_idx = $3)`,
      filters,
    );
    return {
      cells: rows.map((row) => ({
        ...toCell(row),
        externalId: row.external_id,
        category: row.category,
        vars: row.vars === null ? {} : json(row.vars),
        line: row.line === null ? null : Number(row.line),
      })),
      total: Number(total[0]?.n ?? 0),
    };
  }

  async spent(runId: string): Promise<number> {
    const rows = await this.#db.query<{ s: string | null }>(
      'SELECT sum(cost_usd) AS s FROM batch_cells WHERE run_id = $1',
      [runId],
    );
    return Number(rows[0]?.s ?? 0);
  }
}

interface RunRow {
  id: string;
  kind: RunKind;
  team: string;
  dataset_id: string;
  application: string;
  candidates: Candidate[] | string;
  sample: RunRecord['sample'] | string;
  gate: boolean;
  economy: boolean;
  deadline_ms: string | null;
  budget_usd: string | null;
  state: RunState;
  stop_reason: string | null;
  cell_count: number;
  created_ms: string;
  updated_ms: string;
}

interface CellRow {
  run_id: string;
  item_idx: number;
  candidate_idx: number;
  provider: string;
  state: CellState;
  attempts: number;
  lease_owner: string | null;
  lease_until_ms: string | null;
  image_ids: string[] | string | null;
  cost_usd: string | null;
  latency_ms: number | null;
  judge_pass: boolean | null;
  error: CellRecord['error'] | string | null;
  via: string | null;
  finished_ms: string | null;
}

interface ItemColumns {
  external_id: string | null;
  category: string | null;
  vars: Record<string, string> | string | null;
  line: number | null;
}

const json = <T>(value: T | string): T => (typeof value === 'string' ? (JSON.parse(value) as T) : value);
const num = (value: string | number | null): number | null => (value === null ? null : Number(value));

function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    kind: row.kind,
    team: row.team,
    datasetId: row.dataset_id,
    application: row.application,
    candidates: json(row.candidates),
    sample: json(row.sample),
    gate: row.gate,
    economy: row.economy,
    deadlineMs: num(row.deadline_ms),
    budgetUsd: num(row.budget_usd),
    state: row.state,
    stopReason: row.stop_reason,
    cellCount: Number(row.cell_count),
    createdMs: Number(row.created_ms),
    updatedMs: Number(row.updated_ms),
  };
}

function toCell(row: CellRow): CellRecord {
  return {
    runId: row.run_id,
    item: Number(row.item_idx),
    candidate: Number(row.candidate_idx),
    provider: row.provider,
    state: row.state,
    attempts: Number(row.attempts),
    leaseOwner: row.lease_owner,
    leaseUntilMs: num(row.lease_until_ms),
    imageIds: row.image_ids === null ? [] : json(row.image_ids),
    costUsd: num(row.cost_usd),
    latencyMs: num(row.latency_ms),
    judgePass: row.judge_pass,
    error: row.error === null ? null : json(row.error),
    via: row.via,
    finishedMs: num(row.finished_ms),
  };
}
