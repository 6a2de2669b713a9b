import { BatchRunRepo, type Candidate, type CellKey, type RunRecord } from '../catalog/batch-runs.ts';
import { DatasetRepo } from '../catalog/datasets.ts';
import type { Db } from '../catalog/db.ts';
import { PixelError, redactSecrets, toPixelError } from '../protocol/errors.ts';
import type { Clock } from '../providers/reliability/clock.ts';
import type { ImageService } from '../server/image-service.ts';
import { createBudgetCheck } from './budget-gate.ts';
import { type BucketLimit, ProviderBucket } from './provider-bucket.ts';

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
export class CellRunner {
  readonly #deps: CellRunnerDeps;
  readonly runs: BatchRunRepo;
  readonly #datasets: DatasetRepo;
  readonly #teamBudget: (team: string) => Promise<void>;
  /** Runs as last read, for RUN_CACHE_MS: a pause or cancel reaches every worker within that time. */
  readonly #runCache = new Map<string, { at: number; run: RunRecord }>();
  readonly bucket: ProviderBucket;

  constructor(deps: CellRunnerDeps) {
    this.#deps = deps;
    this.runs = new BatchRunRepo(deps.db);
    this.#datasets = new DatasetRepo(deps.db);
    this.#teamBudget = createBudgetCheck(deps.db, deps.clock);
    this.bucket = new ProviderBucket(deps.db, deps.clock);
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
    const budget = await this.#budgetCheck(run);
    if (budget === 'wait') {
      await this.runs.release(key, owner, 'pending', null, clock.now());
      return { kind: 'busy' };
    }
    if (budget) {
      await this.runs.release(key, owner, 'pending', null, clock.now());
      this.#runCache.delete(run.id);
      if (budget !== 'paused' && budget !== 'cancelled' && budget !== 'done' && budget !== 'budget_stopped') {
        await this.runs.transition(run.id, ['running'], 'budget_stopped', clock.now(), budget);
      }
      return { kind: 'held', why: budget };
    }
    const candidate = run.candidates[job.candidate];
    const [item] = await this.#datasets.itemsAt(run.datasetId, [job.item]);
    if (!candidate || !item) {
      const error = internal(`cell ${cellKey(key)} names an item or candidate the run does not have`);
      await this.runs.release(key, owner, 'failed', errorJson(error), clock.now());
      return { kind: 'dead', error };
    }
    try {
      const limit = this.#deps.limit(claimed.provider);
      const got = await this.bucket.take(claimed.provider, limit, { maxWaits: 200, signal });
      if (!got) {
        throw new PixelError({
          code: 'resource_exhausted',
          reason: 'rate_limited',
          message: `no ${claimed.provider} request slot came free; the job will be retried`,
        });
      }
      const started = clock.now();
      const request = cellRequest(run, candidate, item);
      // The quality gate takes no idempotency key yet: a gated cell relies on its claim alone (a worker
      // dying mid-cell can make a gated cell generate again; an ungated one never pays twice).
      const result = (await this.#deps.images.generateAndStore(
        run.gate ? { ...request, gate: true } : request,
        { team: run.team, role: 'member' },
        { ...(!run.gate && { idempotencyKey: cellKey(key) }), ...(signal && { signal }) },
      )) as Awaited<ReturnType<ImageService['generateAndStore']>> & { gate?: GateOutcome };
      let cost = result.images.reduce<number | null>(
        (sum, image) => (image.costUsd === null ? sum : (sum ?? 0) + image.costUsd),
        null,
      );
      let imageIds = result.images.map((i) => i.id);
      let judgePass: boolean | null = null;
      if (run.gate && result.gate) {
        judgePass = result.gate.verdict.status === 'passed';
        cost = result.gate.spentUsd;
        // The answer (best round) first, then every other round's stored attempt.
        imageIds = [...new Set([...imageIds, ...result.gate.rounds.map((r) => r.imageId)])];
      }
      await this.runs.complete(
        key,
        owner,
        {
          imageIds,
          costUsd: cost,
          latencyMs: result.replayed ? (result.images[0]?.latencyMs ?? 0) : clock.now() - started,
          judgePass,
          via: 'direct',
        },
        clock.now(),
      );
      await this.runs.finishIfComplete(run.id, clock.now());
      return { kind: 'done', replayed: result.replayed };
    } catch (thrown) {
      const error = toPixelError(thrown);
      if (
        error.reason === 'rate_limited' &&
        error.retryAfterMs !== undefined &&
        error.provider !== undefined
      ) {
        await this.bucket.block(claimed.provider, clock.now() + error.retryAfterMs);
      }
      const retry = error.retryable && !attempt.final;
      await this.runs.release(key, owner, retry ? 'pending' : 'failed', errorJson(error), clock.now());
      if (!retry) await this.runs.finishIfComplete(run.id, clock.now());
      return retry ? { kind: 'retry', error } : { kind: 'dead', error };
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
   * while the first cell of a budgeted run is still out (its cost is not known yet). A run's budget counts
   * what is spent plus, for every cell in flight (this one included), the average cost so far: the run stops
   * before a cell that could take it over, never after.
   */
  async #budgetCheck(cachedRun: RunRecord): Promise<string | 'wait' | undefined> {
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
      await this.#teamBudget(run.team);
    } catch (error) {
      if (PixelError.isInstance(error) && error.reason === 'budget_exhausted') return error.message;
      throw error;
    }
    return undefined;
  }
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
