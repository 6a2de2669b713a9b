import { randomUUID } from 'node:crypto';
import type { Db } from '../catalog/db.ts';
import type { Catalog } from '../models/catalog.ts';
import type { ProviderName } from '../models/schema.ts';
import { PixelError } from '../protocol/errors.ts';
import type { Clock } from '../providers/reliability/clock.ts';
import { systemClock } from '../providers/reliability/clock.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import type { PairJudge } from '../quality/judges/pairwise.ts';
import type { Judge } from '../quality/types.ts';
import type { TrainingBackend, TrainingContext, TrainingStatus } from './backends/types.ts';
import { checkName, type FinetuneDatasets } from './datasets.ts';
import { evaluateFinetune } from './evaluate.ts';
import { learnTune, measureLook } from './learn.ts';
import type { FinetuneRegistry } from './registry.ts';
import { FinetuneRepo } from './repo.ts';
import {
  BACKENDS,
  type BackendName,
  type DatasetLook,
  type Finetune,
  INSTANT_BACKENDS,
  TERMINAL_STATES,
} from './types.ts';

export interface FinetuneServiceDeps {
  db: Db;
  datasets: FinetuneDatasets;
  registry: FinetuneRegistry;
  /** The catalogue with the fine-tunes in it (the registry's). */
  catalog: Catalog;
  adapter: (provider: ProviderName) => ProviderAdapter | undefined;
  backends: ReadonlyMap<BackendName, TrainingBackend>;
  judge: Judge;
  /** Compares each pair of evaluation images (default: the judge's own, or pixel/inspect's measurements). */
  pairJudge?: PairJudge;
  clock?: Clock;
  /** The fine-tune must beat its base by this share of matched questions to be promoted (default 0.2). */
  margin?: number;
  /** And win this share of the pairwise comparisons with its base, a tie counting half (default 0.5). */
  minWinRate?: number;
  /** Promote a version that passes its evaluation (default true). */
  autoPromote?: boolean;
  /** Wait between looks at a running training, by backend (default 15 s; the offline sketch backend 0). */
  pollMs?: (backend: BackendName) => number;
  /** Wait before a step that met a provider hiccup (network, 429, 5xx) runs again (default 10 s). */
  retryMs?: number;
}

/** Where a job's next step goes: the durable queue (src/finetune/queue.ts). */
export interface FinetuneScheduler {
  /** Schedules the job's next step `afterMs` from now (one waiting step per job: a second is dropped). */
  schedule(id: string, afterMs: number): Promise<void>;
}

type StepOutcome = { job: Finetune | undefined; retry?: undefined } | { retry: true; job?: undefined };

/** How long a step's lease on its row lasts without renewal (renewed every quarter while the step runs). */
const LEASE_MS = 120_000;

export interface StartInput {
  team: string;
  dataset: string;
  backend: string;
  base: string;
  trigger: string;
  /** The served name (`ft/<name>`); default the dataset's name. */
  name?: string;
  /** The class noun next to the trigger ("TOK ribeye steak"); default the dataset's category. */
  classNoun?: string;
  steps?: number;
  /** With the `import` backend: the LoRA to register (a file name on the base's host, or a URL on fal). */
  lora?: string;
  params?: Record<string, unknown>;
}

const TRIGGER_RE = /^[A-Za-z][A-Za-z0-9_]{1,31}$/;

/**
 * Fine-tune jobs: queued → training → evaluating → succeeded / failed / cancelled, each step a job on the
 * durable queue (submit; poll, rescheduled after the backend's poll interval while training; evaluate).
 * Every transition is a row update guarded by the state it was read in, and the next step is on the queue
 * before the current one is marked done, so a worker that stops (a restart, a crash) loses nothing: the
 * queue hands the step to the next worker, which carries on from the row.
 */
export class FinetuneService {
  readonly #deps: FinetuneServiceDeps;
  readonly #repo: FinetuneRepo;
  readonly #clock: Clock;
  readonly #owner = `ftw_${randomUUID()}`;

  readonly #retryMs: number;
  #scheduler: FinetuneScheduler | undefined;

  constructor(deps: FinetuneServiceDeps) {
    this.#deps = deps;
    this.#repo = new FinetuneRepo(deps.db);
    this.#clock = deps.clock ?? systemClock;
    this.#retryMs = deps.retryMs ?? 10_000;
  }

  /** The queue new jobs and cancels go to (set by the job system when it starts; undefined detaches it). */
  attachScheduler(scheduler: FinetuneScheduler | undefined): void {
    this.#scheduler = scheduler;
  }

  get scheduler(): FinetuneScheduler | undefined {
    return this.#scheduler;
  }

  #pollMs(backend: BackendName): number {
    return this.#deps.pollMs?.(backend) ?? (INSTANT_BACKENDS.has(backend) ? 0 : 15_000);
  }

  get repo(): FinetuneRepo {
    return this.#repo;
  }

  async start(input: StartInput): Promise<Finetune> {
    if (!(BACKENDS as readonly string[]).includes(input.backend)) {
      throw new PixelError({
        code: 'invalid_argument',
        field: 'backend',
        message: `backend must be one of ${BACKENDS.join(', ')}, got ${JSON.stringify(input.backend)}`,
      });
    }
    const backend = this.#deps.backends.get(input.backend as BackendName);
    if (!backend) {
      throw new PixelError({
        code: 'failed_precondition',
        field: 'backend',
        reason: 'not_configured',
        message: `the ${input.backend} training backend is not available on this server (not built or not configured)`,
      });
    }
    if (!TRIGGER_RE.test(input.trigger)) {
      throw new PixelError({
        code: 'invalid_argument',
        field: 'trigger',
        message: `trigger must be 2–32 letters, digits or "_" starting with a letter (a rare token such as TOK), got ${JSON.stringify(input.trigger)}`,
      });
    }
    const base = this.#deps.catalog.get(input.base);
    if (!base || input.base.startsWith('ft/')) {
      throw new PixelError({
        code: 'not_found',
        field: 'base',
        message: `base model ${input.base} is not a catalogue model`,
      });
    }
    if (!backend.supportsBase(base.id)) {
      throw new PixelError({
        code: 'invalid_argument',
        field: 'base',
        message: `the ${backend.name} backend cannot fine-tune ${base.id}`,
      });
    }
    // An imported LoRA is not trained here: no steps.
    const steps = backend.name === 'import' ? 0 : (input.steps ?? 1000);
    if (backend.name !== 'import' && (!Number.isInteger(steps) || steps < 1 || steps > 100_000)) {
      throw new PixelError({
        code: 'invalid_argument',
        field: 'steps',
        message: `steps must be an integer from 1 to 100000, got ${steps}`,
      });
    }
    const params = { ...input.params, ...(input.lora !== undefined && { lora: input.lora }), steps };
    backend.checkParams?.(base.id, params);
    const dataset = await this.#deps.datasets.get(input.team, input.dataset);
    const name = checkName('name', input.name ?? dataset.name);
    const classNoun = (input.classNoun ?? dataset.category).trim();
    if (!/^[a-z][a-z0-9' -]{0,48}$/i.test(classNoun)) {
      throw new PixelError({
        code: 'invalid_argument',
        field: 'classNoun',
        message: `classNoun must be 1–49 letters, digits, spaces, "'" or "-", got ${JSON.stringify(classNoun)}`,
      });
    }
    const job = await this.#repo.insert(
      {
        team: input.team,
        name,
        datasetId: dataset.id,
        category: dataset.category,
        baseModel: base.id,
        backend: backend.name,
        trigger: input.trigger,
        classNoun,
        params,
      },
      this.#clock.now(),
    );
    // Without a queue here (no job system in this process), the next fine-tune worker to start queues it.
    await this.#scheduler?.schedule(job.id, 0);
    return job;
  }

  async get(id: string, team?: string): Promise<Finetune> {
    const job = await this.#repo.mustGet(id);
    if (team !== undefined && job.team !== team) {
      throw new PixelError({ code: 'not_found', field: 'id', message: `no fine-tune job ${id}` });
    }
    return job;
  }

  list(team?: string): Promise<Finetune[]> {
    return this.#repo.list(team === undefined ? {} : { team });
  }

  /**
   * Stops a job: marks it cancel-requested, then cancels it here and now (at the backend when it is
   * training). A step running elsewhere at that moment loses its transition (every transition is guarded by
   * the state it was read in), and a submission that lands after the cancel is cancelled at the backend.
   */
  async cancel(id: string, team?: string, signal?: AbortSignal): Promise<Finetune> {
    const job = await this.get(id, team);
    if (TERMINAL_STATES.has(job.state)) {
      throw new PixelError({
        code: 'failed_precondition',
        field: 'id',
        message: `fine-tune job ${id} is already ${job.state}`,
      });
    }
    const requested = await this.#repo.requestCancel(id, this.#clock.now());
    if (requested) {
      if (requested.state === 'training' && !this.#deps.backends.has(requested.backend) && this.#scheduler) {
        // This process cannot reach the provider: a queue worker that can stops the training.
        await this.#scheduler.schedule(id, 0);
      } else {
        const outcome = await this.#stepOnce(requested, signal);
        // A provider hiccup: the job's next queue step cancels it.
        if (outcome.retry) await this.#scheduler?.schedule(id, 0).catch(() => {});
      }
    }
    return this.#repo.mustGet(id);
  }

  /**
   * Fails a job whose step kept failing for a reason that is not the provider's (the queue's last attempt):
   * the error says what happened, so the job does not sit in its state for ever.
   */
  async giveUp(id: string, reason: string): Promise<void> {
    const job = await this.#repo.get(id);
    if (!job || TERMINAL_STATES.has(job.state)) return;
    await this.#repo.advance(
      id,
      job.state,
      { state: 'failed', error: `gave up after repeated errors: ${reason}` },
      this.#clock.now(),
    );
  }

  /**
   * Makes a succeeded version the one `ft/<name>` serves. One whose evaluation did not pass needs `force`
   * (a person overruling the judge), and is refused otherwise.
   */
  async promote(id: string, options: { team?: string; force?: boolean } = {}): Promise<Finetune> {
    const job = await this.get(id, options.team);
    if (job.state !== 'succeeded') {
      throw new PixelError({
        code: 'failed_precondition',
        field: 'id',
        message: `fine-tune job ${id} is ${job.state}; only a succeeded one can be promoted`,
      });
    }
    if (!job.evaluation?.passed && !options.force) {
      throw new PixelError({
        code: 'failed_precondition',
        field: 'id',
        reason: 'evaluation_failed',
        message: `fine-tune job ${id} did not pass its evaluation (${job.evaluation?.verdict ?? 'not evaluated'}); promote with force to overrule it`,
      });
    }
    await this.#repo.promote(this.#deps.db, job, this.#clock.now());
    await this.#deps.registry.refresh(this.#repo);
    return this.#repo.mustGet(id);
  }

  /**
   * One step of a job, as a queue job runs it: reads the row, takes the row's lease for a step that calls
   * out and must not run twice at once (submit, evaluate), moves the job one transition on, and says when
   * its next step is due (ms from now), or undefined when it is finished or gone.
   */
  async advance(id: string, signal?: AbortSignal): Promise<number | undefined> {
    const job = await this.#repo.get(id);
    if (!job || TERMINAL_STATES.has(job.state)) return undefined;
    const leased = !job.cancelRequested && (job.state === 'queued' || job.state === 'evaluating');
    let outcome: StepOutcome;
    if (leased) {
      const now = this.#clock.now();
      // One holder per step, not per process: a copy of this step handed out again (its heartbeat lapsed)
      // to this same process must not share the lease.
      const holder = `${this.#owner}:${randomUUID()}`;
      const lease = await this.#repo.takeLease(id, job.state, holder, now, now + LEASE_MS);
      // Another worker is on it: look again when its lease would lapse (it schedules the next step itself).
      if (!lease.taken) return Math.max(1000, lease.untilMs - now);
      const renew = setInterval(
        () => void this.#repo.renewLease(id, holder, this.#clock.now() + LEASE_MS).catch(() => {}),
        LEASE_MS / 4,
      );
      renew.unref();
      try {
        outcome = await this.#stepOnce(job, signal);
      } finally {
        clearInterval(renew);
        await this.#repo.releaseLease(id, holder).catch(() => {});
      }
    } else {
      outcome = await this.#stepOnce(job, signal);
    }
    if (outcome.retry) return this.#retryMs;
    const after = outcome.job ?? (await this.#repo.get(id));
    if (!after || TERMINAL_STATES.has(after.state)) return undefined;
    // The state changed under this step (a cancel, another worker): look again at once.
    if (!outcome.job) return 0;
    return after.state === 'training' ? this.#pollMs(after.backend) : 0;
  }

  /** Moves one job one transition on (what a queue step does, without the lease). */
  async step(job: Finetune, signal?: AbortSignal): Promise<Finetune | undefined> {
    const outcome = await this.#stepOnce(job, signal);
    return outcome.retry ? job : outcome.job;
  }

  async #stepOnce(job: Finetune, signal?: AbortSignal): Promise<StepOutcome> {
    const now = () => this.#clock.now();
    const backend = this.#deps.backends.get(job.backend);
    if (!backend) {
      // Asked to stop where nothing can reach the provider: stopped here, saying what may still run there.
      const patch = job.cancelRequested
        ? {
            state: 'cancelled' as const,
            ...(job.state === 'training' && {
              error: `cancelled on a server without the ${job.backend} backend: the training there was not stopped`,
            }),
          }
        : { state: 'failed' as const, error: `the ${job.backend} backend is not available on this server` };
      return { job: await this.#repo.advance(job.id, job.state, patch, now()) };
    }
    try {
      const context = await this.#context(job, signal);
      if (job.cancelRequested) {
        let refused: string | undefined;
        if (job.state === 'training' && job.external) {
          try {
            await backend.cancel(context, job.external);
          } catch (error) {
            // A provider that refuses for good (not a hiccup): the job is stopped here all the same, saying so.
            if (!PixelError.isInstance(error) || error.retryable || signal?.aborted) throw error;
            refused = `cancelled here, but ${job.backend} refused to stop the training: ${error.message}`;
          }
        }
        const cancelled = await this.#repo.advance(
          job.id,
          job.state,
          { state: 'cancelled', ...(refused && { error: refused }) },
          now(),
        );
        if (cancelled) await this.#deps.registry.refresh(this.#repo);
        return { job: cancelled };
      }
      if (job.state === 'queued') {
        const external = await backend.submit(context);
        let next: Finetune | undefined;
        try {
          next = await this.#repo.advance(
            job.id,
            'queued',
            { state: 'training', external, progress: 0 },
            now(),
          );
        } catch (error) {
          // The training started but its handle could not be saved: stop it, so the retried step's is the only one.
          await backend.cancel(context, external).catch(() => {});
          throw error;
        }
        // Cancelled while the submission was on its way: stop the training it started.
        if (!next) await backend.cancel(context, external).catch(() => {});
        return { job: next };
      }
      if (job.state === 'training') {
        const status: TrainingStatus = await backend.poll(context, job.external ?? {});
        if (status.state === 'running') {
          return {
            job: await this.#repo.advance(
              job.id,
              'training',
              { progress: status.progress, external: status.external },
              now(),
            ),
          };
        }
        if (status.state === 'succeeded') {
          const next = await this.#repo.advance(
            job.id,
            'training',
            { state: 'evaluating', progress: 1, external: status.external, weights: status.weights },
            now(),
          );
          await this.#deps.registry.refresh(this.#repo);
          return { job: next };
        }
        if (status.state === 'failed') {
          return {
            job: await this.#repo.advance(
              job.id,
              'training',
              { state: 'failed', external: status.external, error: status.error },
              now(),
            ),
          };
        }
        return {
          job: await this.#repo.advance(
            job.id,
            'training',
            { state: 'cancelled', external: status.external },
            now(),
          ),
        };
      }
      if (job.state === 'evaluating') return { job: await this.#evaluate(job, signal) };
      return { job };
    } catch (error) {
      if (signal?.aborted) throw error;
      // A provider hiccup (network, 429, 5xx): the next step tries again.
      if (PixelError.isInstance(error) && error.retryable) return { retry: true };
      // Not an answer from a provider or a refusal of the job (the database, the blob store): the queue
      // retries the step with backoff, and its last attempt gives the job up (giveUp).
      if (!PixelError.isInstance(error)) throw error;
      const message = error.message;
      return { job: await this.#repo.advance(job.id, job.state, { state: 'failed', error: message }, now()) };
    }
  }

  async #evaluate(job: Finetune, signal?: AbortSignal): Promise<Finetune | undefined> {
    if (!job.weights) {
      return this.#repo.advance(
        job.id,
        'evaluating',
        { state: 'failed', error: 'no weights to evaluate' },
        this.#clock.now(),
      );
    }
    if (!this.#deps.registry.finetuneFor(`ft/${job.name}/v${job.version}`))
      await this.#deps.registry.refresh(this.#repo);
    const evaluation = await evaluateFinetune(
      job,
      await this.#look(job, signal),
      {
        catalog: this.#deps.catalog,
        adapter: this.#deps.adapter,
        judge: this.#deps.judge,
        ...(this.#deps.pairJudge && { pairJudge: this.#deps.pairJudge }),
      },
      {
        margin: this.#deps.margin ?? 0.2,
        ...(this.#deps.minWinRate !== undefined && { minWinRate: this.#deps.minWinRate }),
        ...(signal && { signal }),
      },
    );
    const done = await this.#repo.advance(
      job.id,
      'evaluating',
      { state: 'succeeded', evaluation },
      this.#clock.now(),
    );
    if (done && evaluation.passed && this.#deps.autoPromote !== false) {
      await this.#repo.promote(this.#deps.db, done, this.#clock.now());
    }
    await this.#deps.registry.refresh(this.#repo);
    return done ? this.#repo.get(job.id) : undefined;
  }

  /** The dataset's look the evaluation asks about (the sketch tune learned it already; others measure it now). */
  async #look(job: Finetune, signal?: AbortSignal): Promise<DatasetLook> {
    if (job.weights?.kind === 'sketch-tune') {
      const { subjectColour, backgroundColour } = job.weights;
      return { ...(subjectColour !== undefined && { subjectColour }), backgroundColour };
    }
    const context = await this.#context(job, signal);
    const looks = await Promise.all((await context.images()).map((bytes) => measureLook(bytes)));
    const learned = learnTune(looks, 1000);
    return {
      ...(learned.subjectColour !== undefined && { subjectColour: learned.subjectColour }),
      backgroundColour: learned.backgroundColour,
    };
  }

  async #context(job: Finetune, signal?: AbortSignal): Promise<TrainingContext> {
    const dataset = await this.#deps.datasets.getById(job.datasetId);
    if (!dataset)
      throw new PixelError({
        code: 'not_found',
        field: 'dataset',
        message: `dataset ${job.datasetId} is gone`,
      });
    return {
      job,
      dataset,
      images: () => this.#deps.datasets.bytes(dataset),
      zip: () => this.#deps.datasets.zip(dataset),
      ...(signal && { signal }),
    };
  }
}
