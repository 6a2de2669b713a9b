import type { PgBoss } from 'pg-boss';
import type { Applications } from '../apps/service.ts';
import {
  BatchRunRepo,
  type Candidate,
  CELL_STATES,
  type CellCounts,
  type CellState,
  type CellWithItem,
  type RunKind,
  type RunRecord,
  type RunState,
  type SampleSpec,
} from '../catalog/batch-runs.ts';
import { DatasetRepo } from '../catalog/datasets.ts';
import type { Db } from '../catalog/db.ts';
import { newUlid } from '../catalog/ids.ts';
import { UsageRepo } from '../catalog/usage.ts';
import type { Catalog } from '../models/catalog.ts';
import { invalidArgument, PixelError } from '../protocol/errors.ts';
import { parseGenerateRequest } from '../protocol/request.ts';
import type { Clock } from '../providers/reliability/clock.ts';
import { systemClock } from '../providers/reliability/clock.ts';
import { type Caller, requireRole } from '../server/image-service.ts';
import { CELL_QUEUE, ECONOMY_QUEUE } from './boss.ts';
import { buildReport, type ExperimentReport, type Preference, type Review } from './report.ts';
import { sampleIndexes } from './sample.ts';

export interface BatchServiceDeps {
  db: Db;
  boss: PgBoss;
  catalog: Catalog;
  applications?: Applications;
  clock?: Clock;
}

export interface StartExperiment {
  dataset: string;
  application: string;
  candidates: Candidate[];
  sample?: SampleSpec;
  gate?: boolean;
}

export interface StartRun {
  dataset: string;
  application: string;
  candidate: Candidate;
  budgetUsd?: number;
  economy?: boolean;
  /** The economy window (ms); 24 h or more. */
  deadlineMs?: number;
}

export interface Progress {
  runId: string;
  state: RunState;
  stopReason: string | null;
  total: number;
  done: number;
  failed: number;
  skipped: number;
  running: number;
  remaining: number;
  costUsd: number;
  budgetUsd: number | null;
  /** Cells finished per second over the last minute (or since the start, when sooner). */
  ratePerSec: number;
  /** Seconds to go at that rate; null when nothing finished lately. */
  etaSec: number | null;
}

const MAX_CELLS = 200_000;
const MAX_CANDIDATES = 16;
const ENQUEUE_CHUNK = 1_000;
/** Economy mode needs a window of at least this long (the provider's batch API completes within 24 h). */
export const ECONOMY_MIN_DEADLINE_MS = 24 * 3600 * 1000;

/**
 * Experiments and production runs: each is a dataset sample × candidates × an application, one cell per
 * item × candidate, one pg-boss job per cell. Start, pause, resume, cancel, progress; the workers do the rest.
 */
export class BatchService {
  readonly #deps: BatchServiceDeps;
  readonly runs: BatchRunRepo;
  readonly #datasets: DatasetRepo;
  readonly #usage: UsageRepo;
  readonly #clock: Clock;

  constructor(deps: BatchServiceDeps) {
    this.#deps = deps;
    this.runs = new BatchRunRepo(deps.db);
    this.#datasets = new DatasetRepo(deps.db);
    this.#usage = new UsageRepo(deps.db);
    this.#clock = deps.clock ?? systemClock;
  }

  async startExperiment(input: StartExperiment, caller: Caller): Promise<RunRecord> {
    if (input.candidates.length === 0)
      throw invalidArgument('candidates', 'an experiment needs at least one candidate');
    return this.#start('experiment', input.dataset, input.application, input.candidates, caller, {
      sample: input.sample ?? { mode: 'all' },
      gate: input.gate === true,
    });
  }

  async startRun(input: StartRun, caller: Caller): Promise<RunRecord> {
    if (input.budgetUsd !== undefined && (!Number.isFinite(input.budgetUsd) || input.budgetUsd <= 0)) {
      throw invalidArgument('budget_usd', `a run budget must be a positive amount, got ${input.budgetUsd}`);
    }
    if (input.economy) {
      if (input.deadlineMs === undefined || input.deadlineMs < ECONOMY_MIN_DEADLINE_MS) {
        throw invalidArgument(
          'deadline',
          'economy mode needs a deadline of 24h or more (the batch API window)',
        );
      }
      const route = this.#deps.catalog.resolve(input.candidate.model).routes[0]!;
      if (route.provider !== 'openai') {
        throw new PixelError({
          code: 'failed_precondition',
          field: 'economy',
          message: `economy mode goes through OpenAI's Batch API; ${route.id} is served by ${route.provider}`,
        });
      }
    }
    return this.#start('production', input.dataset, input.application, [input.candidate], caller, {
      sample: { mode: 'all' },
      ...(input.budgetUsd !== undefined && { budgetUsd: input.budgetUsd }),
      ...(input.economy && { economy: true, deadlineMs: input.deadlineMs! }),
    });
  }

  async #start(
    kind: RunKind,
    datasetName: string,
    application: string,
    candidates: Candidate[],
    caller: Caller,
    extra: { sample: SampleSpec; budgetUsd?: number; economy?: boolean; deadlineMs?: number; gate?: boolean },
  ): Promise<RunRecord> {
    requireRole(caller, 'member');
    if (candidates.length > MAX_CANDIDATES) {
      throw invalidArgument('candidates', `at most ${MAX_CANDIDATES} candidates, got ${candidates.length}`);
    }
    const now = this.#clock.now();
    await this.#usage.assertTeamWithinBudget(caller.team, now);
    const dataset = await this.#datasets.get(datasetName, caller.role === 'admin' ? undefined : caller.team);
    if (this.#deps.applications) await this.#deps.applications.get(application, caller);
    const providers = candidates.map((candidate, i) => this.#checkCandidate(candidate, application, i));
    const items = sampleIndexes(dataset.itemCount, extra.sample);
    if (items.length * candidates.length > MAX_CELLS) {
      throw invalidArgument('sample', `a run has at most ${MAX_CELLS} cells (items × candidates)`);
    }
    const run: RunRecord = {
      id: `${kind === 'experiment' ? 'exp' : 'run'}_${newUlid(now)}`,
      kind,
      team: caller.team,
      datasetId: dataset.id,
      application,
      candidates,
      sample: { ...extra.sample, items },
      gate: extra.gate ?? false,
      economy: extra.economy ?? false,
      deadlineMs: extra.deadlineMs ?? null,
      budgetUsd: extra.budgetUsd ?? null,
      state: 'running',
      stopReason: null,
      cellCount: items.length * candidates.length,
      createdMs: now,
      updatedMs: now,
    };
    const cells = items.flatMap((item) =>
      candidates.map((_, c) => ({ item, candidate: c, provider: providers[c]! })),
    );
    await this.#deps.db.transaction(async (tx) => new BatchRunRepo(tx).create(run, cells));
    if (run.economy) await this.#deps.boss.send(ECONOMY_QUEUE, { runId: run.id });
    else await this.#enqueue(run.id, cells);
    return run;
  }

  #checkCandidate(candidate: Candidate, application: string, index: number): string {
    const field = `candidates[${index}]`;
    if (typeof candidate.model !== 'string' || candidate.model.trim() === '') {
      throw invalidArgument(`${field}.model`, 'a candidate needs a model id');
    }
    for (const key of ['app', 'vars', 'model', 'prompt'] as const) {
      if (key in candidate.overrides) {
        throw invalidArgument(
          `${field}.overrides.${key}`,
          `${key} comes from the run, not a candidate override`,
        );
      }
    }
    // The same validation a generate request gets, so a bad override fails now, not in every cell.
    try {
      parseGenerateRequest({ ...candidate.overrides, model: candidate.model, app: application, vars: {} });
    } catch (error) {
      if (PixelError.isInstance(error) && error.field) {
        throw new PixelError({
          code: error.code,
          field: `${field}.${error.field === 'model' ? 'model' : `overrides.${error.field}`}`,
          message: error.message,
          ...(error.reason !== undefined && { reason: error.reason }),
        });
      }
      throw error;
    }
    const route = this.#deps.catalog.resolve(candidate.model).routes[0]!;
    return route.provider;
  }

  async #enqueue(runId: string, cells: Array<{ item: number; candidate: number; provider: string }>) {
    for (let start = 0; start < cells.length; start += ENQUEUE_CHUNK) {
      await this.#deps.boss.insert(
        CELL_QUEUE,
        cells.slice(start, start + ENQUEUE_CHUNK).map((c) => ({
          data: { runId, item: c.item, candidate: c.candidate },
          group: { id: c.provider, tier: c.provider },
        })),
      );
    }
  }

  async get(id: string, caller: Caller): Promise<RunRecord> {
    requireRole(caller, 'viewer');
    const run = await this.runs.get(id);
    if (caller.role !== 'admin' && run.team !== caller.team) {
      throw new PixelError({ code: 'not_found', field: 'id', message: `run ${id} not found` });
    }
    return run;
  }

  async list(caller: Caller, kind?: RunKind): Promise<RunRecord[]> {
    requireRole(caller, 'viewer');
    return this.runs.list({ ...(caller.role !== 'admin' && { team: caller.team }), ...(kind && { kind }) });
  }

  async pause(id: string, caller: Caller): Promise<RunRecord> {
    requireRole(caller, 'member');
    const run = await this.get(id, caller);
    if (!(await this.runs.transition(run.id, ['running'], 'paused', this.#clock.now()))) {
      throw stateError(run, 'pause', 'running');
    }
    return this.runs.get(id);
  }

  /** Resumes a paused (or budget-stopped) run: its pending cells go back on the queue; finished ones stay. */
  async resume(id: string, caller: Caller, options: { budgetUsd?: number } = {}): Promise<RunRecord> {
    requireRole(caller, 'member');
    const run = await this.get(id, caller);
    if (options.budgetUsd !== undefined) {
      await this.#deps.db.query('UPDATE batch_runs SET budget_usd = $2 WHERE id = $1', [
        id,
        options.budgetUsd,
      ]);
    }
    if (
      !(await this.runs.transition(
        run.id,
        ['paused', 'budget_stopped', 'running'],
        'running',
        this.#clock.now(),
      ))
    ) {
      throw stateError(run, 'resume', 'paused, budget_stopped or running');
    }
    await this.#enqueue(run.id, await this.runs.pendingCells(run.id));
    await this.runs.finishIfComplete(run.id, this.#clock.now());
    return this.runs.get(id);
  }

  async cancel(id: string, caller: Caller): Promise<RunRecord> {
    requireRole(caller, 'member');
    const run = await this.get(id, caller);
    const now = this.#clock.now();
    if (
      !(await this.runs.transition(
        run.id,
        ['running', 'paused', 'budget_stopped'],
        'cancelled',
        now,
        'cancelled',
      ))
    ) {
      throw stateError(run, 'cancel', 'running, paused or budget_stopped');
    }
    await this.runs.skipPending(run.id, now);
    return this.runs.get(id);
  }

  async progress(id: string, caller: Caller): Promise<Progress> {
    const run = await this.get(id, caller);
    const now = this.#clock.now();
    const windowMs = Math.max(1_000, Math.min(60_000, now - run.createdMs));
    return progressOf(
      run,
      await this.runs.counts(id),
      await this.runs.finishedSince(id, now - windowMs),
      windowMs,
    );
  }

  /** The run's failed cells with their reasons (what went to the dead-letter queue). */
  async failures(id: string, caller: Caller) {
    await this.get(id, caller);
    return (await this.runs.cells(id))
      .filter((c) => c.state === 'failed')
      .map((c) => ({ item: c.item, candidate: c.candidate, attempts: c.attempts, error: c.error }));
  }

  /**
   * A page of the run's cells in (item, candidate) order with their items, images, cost, latency, judge
   * verdict and last error; filtered by state and candidate. `pageToken` comes from the previous page.
   */
  async listCells(
    id: string,
    caller: Caller,
    options: { state?: string; candidate?: number; pageSize?: number; pageToken?: string } = {},
  ): Promise<{ cells: Array<CellWithItem & { model: string }>; nextPageToken?: string; total: number }> {
    const run = await this.get(id, caller);
    const { state, candidate } = options;
    if (state !== undefined && !(CELL_STATES as readonly string[]).includes(state)) {
      throw invalidArgument('state', `must be one of ${CELL_STATES.join(', ')}, got "${state}"`);
    }
    if (
      candidate !== undefined &&
      !(Number.isInteger(candidate) && candidate >= 0 && candidate < run.candidates.length)
    ) {
      throw invalidArgument(
        'candidate',
        `must be 0–${run.candidates.length - 1} (the run's candidates), got ${candidate}`,
      );
    }
    const pageSize = options.pageSize ?? DEFAULT_CELL_PAGE;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_CELL_PAGE) {
      throw invalidArgument('page_size', `must be 1–${MAX_CELL_PAGE}, got ${pageSize}`);
    }
    const after = options.pageToken ? decodeCellToken(options.pageToken) : undefined;
    const page = await this.runs.listCells(run.id, {
      limit: pageSize + 1,
      ...(state !== undefined && { state: state as CellState }),
      ...(candidate !== undefined && { candidate }),
      ...(after && { after }),
    });
    const cells = page.cells.slice(0, pageSize).map((c) => ({
      ...c,
      model: run.candidates[c.candidate]?.model ?? '',
    }));
    const last = cells.at(-1);
    return {
      cells,
      total: page.total,
      ...(page.cells.length > pageSize && last && { nextPageToken: encodeCellToken(last) }),
    };
  }

  /** The experiment's ranking (works on a production run too: one candidate). */
  async report(id: string, caller: Caller): Promise<ExperimentReport> {
    const run = await this.get(id, caller);
    const cells = await this.runs.cells(id);
    const ids = cells.flatMap((c) => c.imageIds);
    const reviews = new Map<string, Review>();
    let preferences: Preference[] = [];
    if (ids.length > 0) {
      const rows = await this.#deps.db.query<{ id: string; review: unknown }>(
        'SELECT id, review FROM images WHERE id = ANY($1::text[]) AND review IS NOT NULL',
        [ids],
      );
      for (const row of rows) reviews.set(row.id, reviewOf(row.review));
      // Reviewers' and judges' pairwise choices between two of this run's images (the report keeps those
      // of one item from two candidates).
      const chosen = await this.#deps.db.query<{
        image_a: string;
        image_b: string;
        preferred: Preference['preferred'];
        reviewer: string;
      }>(
        `SELECT image_a, image_b, preferred, reviewer FROM quality_preferences
         WHERE team = $2 AND image_a = ANY($1::text[]) AND image_b = ANY($1::text[])`,
        [ids, run.team],
      );
      preferences = chosen.map((r) => ({
        imageA: r.image_a,
        imageB: r.image_b,
        preferred: r.preferred,
        reviewer: r.reviewer,
      }));
    }
    return buildReport(run, cells, reviews, preferences);
  }
}

const DEFAULT_CELL_PAGE = 100;
const MAX_CELL_PAGE = 1_000;

/** A cell page token: the last cell's (item, candidate), base64url JSON (opaque to callers). */
function encodeCellToken(cell: { item: number; candidate: number }): string {
  return Buffer.from(JSON.stringify({ i: cell.item, c: cell.candidate })).toString('base64url');
}

function decodeCellToken(token: string): { item: number; candidate: number } {
  try {
    if (token.length > 128) throw new Error('too long');
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      i?: unknown;
      c?: unknown;
    };
    if (!Number.isInteger(parsed.i) || !Number.isInteger(parsed.c)) throw new Error('shape');
    return { item: parsed.i as number, candidate: parsed.c as number };
  } catch {
    throw invalidArgument('page_token', 'the page token is not one this server handed out', 'invalid_cursor');
  }
}

/** A human review as the catalogue keeps it: `{ approved: bool }` or `{ decision | verdict: 'approved' | … }`. */
function reviewOf(raw: unknown): Review {
  const value = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
  if (!value || typeof value !== 'object') return null;
  const record = value as Record<string, unknown>;
  if (typeof record.approved === 'boolean') return { approved: record.approved };
  const word = record.decision ?? record.verdict ?? record.status;
  if (typeof word !== 'string') return null;
  return { approved: /^approve/i.test(word) };
}

export function progressOf(
  run: RunRecord,
  counts: CellCounts,
  finishedInWindow: number,
  windowMs = 60_000,
): Progress {
  const remaining = counts.pending + counts.running;
  const ratePerSec = finishedInWindow / (windowMs / 1000);
  return {
    runId: run.id,
    state: run.state,
    stopReason: run.stopReason,
    total: run.cellCount,
    done: counts.done,
    failed: counts.failed,
    skipped: counts.skipped,
    running: counts.running,
    remaining,
    costUsd: Math.round(counts.costUsd * 1e6) / 1e6,
    budgetUsd: run.budgetUsd,
    ratePerSec: Math.round(ratePerSec * 1000) / 1000,
    etaSec: ratePerSec > 0 ? Math.ceil(remaining / ratePerSec) : remaining === 0 ? 0 : null,
  };
}

function stateError(run: RunRecord, action: string, expected: string): PixelError {
  return new PixelError({
    code: 'failed_precondition',
    field: 'state',
    message: `cannot ${action} run ${run.id}: it is ${run.state} (needs ${expected})`,
  });
}
