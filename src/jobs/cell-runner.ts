import { BatchRunRepo, type Candidate, type CellKey, type RunRecord } from '../catalog/batch-runs.ts';
import { DatasetRepo } from '../catalog/datasets.ts';
import type { Db } from '../catalog/db.ts';
import { IdempotencyStore } from '../catalog/idempotency.ts';
import { ImageRepo } from '../catalog/images.ts';
import { PixelError, redactSecrets, toPixelError } from '../protocol/errors.ts';
import { parseGenerateRequest } from '../protocol/request.ts';
import type { Clock } from '../providers/reliability/clock.ts';
import { hashRequest, type ImageService } from '../server/image-service.ts';
import { type BudgetCheck, type BudgetRelease, createBudgetCheck } from './budget-gate.ts';
import { type BucketLimit, ProviderBucket } from './provider-bucket.ts';
import { ProviderSlots } from './provider-slots.ts';

/** How long a worker trusts a run's state it read (pause, cancel and budget stops reach it within this). */
export const RUN_CACHE_MS = 1_000;

/** What a gated generation adds to its answer (src/quality): the verdict, the rounds and what they cost. */
interface GateOutcome {
  verdict: { status: string };
  rounds: Array<{ imageId: string }>;
  spentUsd: number;
}

/** What one cell's job carries. */
export interface CellJob {
  runId: string;
  item: number;
  candidate: number;
}

/**
 * What became of a cell's job: `done` (stored, or already finished by an earlier attempt); `held` (the run
 * is paused or stopped: the cell stays pending for a resume); `busy` (another live worker holds the cell);
 * `retry` (a retryable failure: the queue tries again with backoff); `dead` (final failure, with its reason).
 */
export type CellOutcome =
  | { kind: 'done'; replayed: boolean }
  | { kind: 'held'; why: string }
  | { kind: 'busy' }
  | { kind: 'retry'; error: PixelError }
  | { kind: 'dead'; error: PixelError };

export interface CellRunnerDeps {
  db: Db;
  images: ImageService;
  clock: Clock;
  /** This worker, as the holder of cell leases. */
  owner: string;
  /** How long a claimed cell stays this worker's without a renewal. */
  leaseMs: number;
  /** Requests per minute per provider, shared by every worker. */
  limit(provider: string): BucketLimit;
  /** Provider calls at once per provider, across every worker (default: no shared limit). */
  concurrency?(provider: string): number;
  /** How long a provider slot stays this worker's without a renewal (default max(leaseMs, 10 s)). */
  slotLeaseMs?: number;
  /** Longest wait for a provider slot before the job is retried later (default 5 min). */
  slotWaitMs?: number;
}

/** What a gated cell's idempotency record keeps: its answer, replayed by a retry instead of judging again. */
interface GatedAnswer {
  imageIds: string[];
  costUsd: number | null;
  latencyMs: number;
  judgePass: boolean;
}

/** The generate request of a cell: the candidate's model and overrides, the run's application, the item's vars. */
export function cellRequest(
  run: RunRecord,
  candidate: Candidate,
  item: { vars: Record<string, string>; category: string | null },
): Record<string, unknown> {
  const vars = { ...item.vars };
  // The product category rides as a variable (applications route fine-tunes by it).
  if (item.category !== null && vars.category === undefined) vars.category = item.category;
  return { ...candidate.overrides, model: candidate.model, app: run.application, vars };
}

/** The idempotency key of a cell: a retried or duplicated job finds the first attempt's images. */
export const cellKey = (k: CellKey) => `batch:${k.runId}:${k.item}:${k.candidate}`;

/**
 * Runs one cell: claims it, checks the run's state and budgets, takes a token from the provider's shared
 * bucket, generates and stores through the image service (idempotent per run, item and candidate), and
 * records the result on the cell. A provider's wait (429 Retry-After) blocks the bucket for every worker.
 */
/** A cell this worker has claimed, with what its steps need. */
interface ClaimedCell {
  job: CellJob;
  attempt: { final: boolean };
  run: RunRecord;
  key: CellKey;
  /** The provider the candidate's model runs on (its concurrency slot and rate). */
  provider: string;
  signal: AbortSignal | undefined;
}

export class CellRunner {
  readonly #deps: CellRunnerDeps;
  readonly runs: BatchRunRepo;
  readonly #datasets: DatasetRepo;
  readonly #teamBudget: BudgetCheck;
  /** Runs as last read, for RUN_CACHE_MS: a pause or cancel reaches every worker within that time. */
  readonly #runCache = new Map<string, { at: number; run: RunRecord }>();
  readonly bucket: ProviderBucket;
  /** Per-provider concurrency slots shared by every worker. */
  readonly slots: ProviderSlots;
  /** Gated cells' answers, one per (run, item, candidate): a retried gated cell replays, never stores a second. */
  readonly #gatedAnswers: IdempotencyStore;

  constructor(deps: CellRunnerDeps) {
    this.#deps = deps;
    this.runs = new BatchRunRepo(deps.db);
    this.#datasets = new DatasetRepo(deps.db);
    this.#teamBudget = createBudgetCheck(deps.db, deps.clock);
    this.bucket = new ProviderBucket(deps.db, deps.clock);
    this.slots = new ProviderSlots(deps.db, deps.clock, {
      owner: deps.owner,
      leaseMs: deps.slotLeaseMs ?? Math.max(deps.leaseMs, 10_000),
    });
    this.#gatedAnswers = new IdempotencyStore(deps.db, { clock: deps.clock });
  }

  async run(job: CellJob, attempt: { final: boolean }, signal?: AbortSignal): Promise<CellOutcome> {
    const { clock, owner, leaseMs } = this.#deps;
    const run = await this.#run(job.runId);
    const key: CellKey = { runId: job.runId, item: job.item, candidate: job.candidate };
    if (run.state !== 'running') {
      if (run.state === 'cancelled') await this.runs.skipPending(run.id, clock.now());
      return { kind: 'held', why: run.state };
    }
    const claimed = await this.runs.claim(key, owner, clock.now(), clock.now() + leaseMs);
    if (!claimed) {
      const cell = await this.runs.cell(key);
      if (!cell) return { kind: 'dead', error: internal(`cell ${cellKey(key)} does not exist`) };
      if (cell.state === 'running') return { kind: 'busy' };
      return { kind: 'done', replayed: true };
    }
    try {
      return await this.#runClaimed({ job, attempt, run, key, provider: claimed.provider, signal });
    } catch (error) {
      // The database failed around the generation (the budget's reads, the item's): give the cell back, so
      // the retry claims it rather than finding it `running` under this live worker until it runs out.
      await this.runs.release(key, owner, 'pending', null, clock.now()).catch(() => {});
      throw error;
    }
  }

  /** A claimed cell: the budgets, then the generation. */
  async #runClaimed(cell: ClaimedCell): Promise<CellOutcome> {
    const { run, key } = cell;
    const { clock, owner } = this.#deps;
    const budget = await this.#budgetCheck(run);
    if (budget === 'wait') {
      await this.runs.release(key, owner, 'pending', null, clock.now());
      return { kind: 'busy' };
    }
    if (typeof budget === 'string') {
      await this.runs.release(key, owner, 'pending', null, clock.now());
      this.#runCache.delete(run.id);
      if (budget !== 'paused' && budget !== 'cancelled' && budget !== 'done' && budget !== 'budget_stopped') {
        await this.runs.transition(run.id, ['running'], 'budget_stopped', clock.now(), budget);
      }
      return { kind: 'held', why: budget };
    }
    // The team's budget counts this cell as in flight until its cost is known (settled as soon as the
    // generation returns; a cell that fails settles at no cost).
    const settleBudget = budget;
    try {
      return await this.#generate(cell, settleBudget);
    } finally {
      settleBudget(null);
    }
  }

  /** The claimed cell's generation, recorded on the cell; `onCost` hears what it added to the catalogue. */
  async #generate(cell: ClaimedCell, onCost: (costUsd: number | null) => void): Promise<CellOutcome> {
    const { job, attempt, run, key, provider, signal } = cell;
    const { clock, owner } = this.#deps;
    const candidate = run.candidates[job.candidate];
    const [item] = await this.#datasets.itemsAt(run.datasetId, [job.item]);
    if (!candidate || !item) {
      const error = internal(`cell ${cellKey(key)} names an item or candidate the run does not have`);
      await this.runs.release(key, owner, 'failed', errorJson(error), clock.now());
      return { kind: 'dead', error };
    }
    try {
      // A slot of the provider's concurrency (shared by every worker) for the call, then a token of its rate.
      const slots = this.#deps.concurrency?.(provider);
      const slot =
        slots === undefined
          ? undefined
          : await this.slots.acquire(provider, slots, cellKey(key), {
              maxWaitMs: this.#deps.slotWaitMs ?? 300_000,
              ...(signal && { signal }),
            });
      if (slots !== undefined && !slot) {
        throw new PixelError({
          code: 'resource_exhausted',
          reason: 'rate_limited',
          message: `all ${slots} ${provider} slots stayed taken; the job will be retried`,
        });
      }
      const started = clock.now();
      let outcome: CellResult;
      try {
        const limit = this.#deps.limit(provider);
        const got = await this.bucket.take(provider, limit, { maxWaits: 200, signal });
        if (!got) {
          throw new PixelError({
            code: 'resource_exhausted',
            reason: 'rate_limited',
            message: `no ${provider} request slot came free; the job will be retried`,
          });
        }
        const request = cellRequest(run, candidate, item);
        outcome = run.gate
          ? await this.#gated(run, key, request, started, signal)
          : await this.#direct(run, key, request, started, signal);
      } finally {
        await slot?.release().catch(() => {});
      }
      onCost(outcome.replayed ? 0 : outcome.result.costUsd);
      await this.runs.complete(key, owner, { ...outcome.result, via: 'direct' }, clock.now());
      await this.runs.finishIfComplete(run.id, clock.now());
      return { kind: 'done', replayed: outcome.replayed };
    } catch (thrown) {
      const error = toPixelError(thrown);
      if (
        error.reason === 'rate_limited' &&
        error.retryAfterMs !== undefined &&
        error.provider !== undefined
      ) {
        await this.bucket.block(provider, clock.now() + error.retryAfterMs);
      }
      const retry = error.retryable && !attempt.final;
      await this.runs.release(key, owner, retry ? 'pending' : 'failed', errorJson(error), clock.now());
      if (!retry) await this.runs.finishIfComplete(run.id, clock.now());
      return retry ? { kind: 'retry', error } : { kind: 'dead', error };
    }
  }

  /** An ungated cell: one generate-and-store under the cell's idempotency key (its rows commit with the key). */
  async #direct(
    run: RunRecord,
    key: CellKey,
    request: Record<string, unknown>,
    started: number,
    signal?: AbortSignal,
  ): Promise<CellResult> {
    const result = await this.#deps.images.generateAndStore(
      request,
      { team: run.team, role: 'member' },
      { idempotencyKey: cellKey(key), ...(signal && { signal }) },
    );
    const cost = result.images.reduce<number | null>(
      (sum, image) => (image.costUsd === null ? sum : (sum ?? 0) + image.costUsd),
      null,
    );
    return {
      replayed: result.replayed,
      result: {
        imageIds: result.images.map((i) => i.id),
        costUsd: cost,
        latencyMs: result.replayed ? (result.images[0]?.latencyMs ?? 0) : this.#deps.clock.now() - started,
        judgePass: null,
      },
    };
  }

  /**
   * A gated cell: the quality gate's rounds (each a stored image), under the cell's idempotency key. The
   * answer counts only if the key's completion commits, fenced to this attempt: a retry after a lapsed
   * lease that took the key over wins or loses as a whole, and the loser's round images are deleted, so a
   * cell never has two answers. A retry of a finished cell replays its answer without generating.
   */
  async #gated(
    run: RunRecord,
    key: CellKey,
    request: Record<string, unknown>,
    started: number,
    signal?: AbortSignal,
  ): Promise<CellResult> {
    const team = run.team;
    const idempotencyKey = cellKey(key);
    const begun = await this.#gatedAnswers.begin({
      team,
      key: idempotencyKey,
      requestHash: `gate:${hashRequest(parseGenerateRequest(request))}`,
    });
    if (begun.state === 'replay') return { replayed: true, result: gatedAnswerOf(begun.response) };
    if (begun.state === 'in_progress') {
      throw new PixelError({
        code: 'aborted',
        reason: 'idempotency_in_progress',
        message: `another attempt of gated cell ${idempotencyKey} is still running`,
      });
    }
    let stored: string[] = [];
    try {
      const result = (await this.#deps.images.generateAndStore(
        { ...request, gate: true },
        { team, role: 'member' },
        signal ? { signal } : {},
      )) as Awaited<ReturnType<ImageService['generateAndStore']>> & { gate?: GateOutcome };
      // The answer (best round) first, then every other round's stored attempt.
      stored = [
        ...new Set([...result.images.map((i) => i.id), ...(result.gate?.rounds ?? []).map((r) => r.imageId)]),
      ];
      const answer: GatedAnswer = {
        imageIds: stored,
        costUsd: result.gate ? result.gate.spentUsd : (result.images[0]?.costUsd ?? null),
        latencyMs: this.#deps.clock.now() - started,
        judgePass: result.gate?.verdict.status === 'passed',
      };
      const kept = await this.#deps.db.transaction((tx) =>
        this.#gatedAnswers.completeIn(tx, team, idempotencyKey, answer),
      );
      this.#gatedAnswers.settled(team, idempotencyKey);
      if (!kept) {
        throw new PixelError({
          code: 'aborted',
          reason: 'idempotency_in_progress',
          message: `another attempt of gated cell ${idempotencyKey} took it over; its answer stands`,
        });
      }
      stored = [];
      return { replayed: false, result: answer };
    } catch (error) {
      // Not the cell's answer: this attempt's rounds go (the sweeper takes their blobs), the key is free again.
      const images = new ImageRepo(this.#deps.db);
      for (const id of stored) await images.delete(id, { team }).catch(() => {});
      await this.#gatedAnswers.abandon(team, idempotencyKey).catch(() => {});
      throw error;
    }
  }

  async #run(id: string): Promise<RunRecord> {
    const now = this.#deps.clock.now();
    const cached = this.#runCache.get(id);
    if (cached && now - cached.at < RUN_CACHE_MS && cached.run.state === 'running') return cached.run;
    const run = await this.runs.get(id);
    this.#runCache.set(id, { at: now, run });
    if (this.#runCache.size > 1_000) this.#runCache.delete(this.#runCache.keys().next().value!);
    return run;
  }

  /**
   * Why the run must stop before this cell (its own budget, or its team's monthly one), if it must; `wait`
   * while the first cell of a budgeted run is still out (its cost is not known yet); else the team budget's
   * hold on this cell, to settle with its cost. A run's budget counts
   * what is spent plus, for every cell in flight (this one included), the average cost so far: the run stops
   * before a cell that could take it over, never after.
   */
  async #budgetCheck(cachedRun: RunRecord): Promise<string | 'wait' | BudgetRelease> {
    // A budgeted run is read fresh: a resume may have raised its budget since it was cached.
    const run = cachedRun.budgetUsd === null ? cachedRun : await this.runs.get(cachedRun.id);
    if (run.state !== 'running') return run.state;
    if (run.budgetUsd !== null) {
      const counts = await this.runs.counts(run.id);
      if (counts.done === 0 && counts.running > 1) return 'wait';
      const average = counts.done > 0 ? counts.costUsd / counts.done : 0;
      if (counts.costUsd + average * counts.running > run.budgetUsd + 1e-9) {
        return `run budget of $${run.budgetUsd.toFixed(4)} reached ($${counts.costUsd.toFixed(4)} spent)`;
      }
    }
    try {
      return await this.#teamBudget.hold(run.team);
    } catch (error) {
      if (PixelError.isInstance(error) && error.reason === 'budget_exhausted') return error.message;
      throw error;
    }
  }
}

/** A cell's result, to record on it. */
interface CellResult {
  replayed: boolean;
  result: { imageIds: string[]; costUsd: number | null; latencyMs: number; judgePass: boolean | null };
}

function gatedAnswerOf(raw: unknown): GatedAnswer {
  const value = (typeof raw === 'string' ? JSON.parse(raw) : raw) as GatedAnswer;
  return {
    imageIds: value.imageIds,
    costUsd: value.costUsd,
    latencyMs: value.latencyMs,
    judgePass: value.judgePass,
  };
}

function internal(message: string): PixelError {
  return new PixelError({ code: 'internal', message });
}

export function errorJson(error: PixelError): { code: string; reason?: string; message: string } {
  return {
    code: error.code,
    ...(error.reason !== undefined && { reason: error.reason }),
    message: redactSecrets(error.message).slice(0, 500),
  };
}
