import type { Db } from '../catalog/db.ts';
import type { Catalog } from '../models/catalog.ts';
import type { ProviderName } from '../models/schema.ts';
import { PixelError } from '../protocol/errors.ts';
import type { Clock } from '../providers/reliability/clock.ts';
import { systemClock } from '../providers/reliability/clock.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import type { Judge } from '../quality/types.ts';
import type { TrainingBackend, TrainingContext, TrainingStatus } from './backends/types.ts';
import { checkName, type FinetuneDatasets } from './datasets.ts';
import { evaluateFinetune } from './evaluate.ts';
import { learnTune, measureLook } from './learn.ts';
import type { FinetuneRegistry } from './registry.ts';
import { FinetuneRepo } from './repo.ts';
import { BACKENDS, type BackendName, type DatasetLook, type Finetune, TERMINAL_STATES } from './types.ts';

export interface FinetuneServiceDeps {
  db: Db;
  datasets: FinetuneDatasets;
  registry: FinetuneRegistry;
  /** The catalogue with the fine-tunes in it (the registry's). */
  catalog: Catalog;
  adapter: (provider: ProviderName) => ProviderAdapter | undefined;
  backends: ReadonlyMap<BackendName, TrainingBackend>;
  judge: Judge;
  clock?: Clock;
  /** The fine-tune must beat its base by this share of matched questions to be promoted (default 0.2). */
  margin?: number;
  /** Promote a version that passes its evaluation (default true). */
  autoPromote?: boolean;
}

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
  params?: Record<string, unknown>;
}

const TRIGGER_RE = /^[A-Za-z][A-Za-z0-9_]{1,31}$/;

/**
 * Fine-tune jobs: queued → training → evaluating → succeeded / failed / cancelled. Every transition is a
 * row update guarded by the state it was read in, so the table is the whole truth: a runner that stops
 * (a restart, a crash) loses nothing, and the next one carries on from the row (a polling loop over the
 * table, not the pg-boss queue).
 */
export class FinetuneService {
  readonly #deps: FinetuneServiceDeps;
  readonly #repo: FinetuneRepo;
  readonly #clock: Clock;

  constructor(deps: FinetuneServiceDeps) {
    this.#deps = deps;
    this.#repo = new FinetuneRepo(deps.db);
    this.#clock = deps.clock ?? systemClock;
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
    const steps = input.steps ?? 1000;
    if (!Number.isInteger(steps) || steps < 1 || steps > 100_000) {
      throw new PixelError({
        code: 'invalid_argument',
        field: 'steps',
        message: `steps must be an integer from 1 to 100000, got ${steps}`,
      });
    }
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
    return this.#repo.insert(
      {
        team: input.team,
        name,
        datasetId: dataset.id,
        category: dataset.category,
        baseModel: base.id,
        backend: backend.name,
        trigger: input.trigger,
        classNoun,
        params: { ...input.params, steps },
      },
      this.#clock.now(),
    );
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

  /** Asks a job to stop; the runner's next look cancels it at the backend and marks it cancelled. */
  async cancel(id: string, team?: string): Promise<Finetune> {
    const job = await this.get(id, team);
    if (TERMINAL_STATES.has(job.state)) {
      throw new PixelError({
        code: 'failed_precondition',
        field: 'id',
        message: `fine-tune job ${id} is already ${job.state}`,
      });
    }
    return (await this.#repo.requestCancel(id, this.#clock.now())) ?? (await this.#repo.mustGet(id));
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

  /** Reloads the registry, then one look at every unfinished job; returns how many are still unfinished. */
  async tick(signal?: AbortSignal): Promise<number> {
    // Promotions made by other processes (the CLI, another server) are picked up here.
    await this.#deps.registry.refresh(this.#repo);
    let open = 0;
    for (const job of await this.#repo.unfinished()) {
      signal?.throwIfAborted();
      const after = await this.step(job, signal);
      if (after && !TERMINAL_STATES.has(after.state)) open++;
    }
    return open;
  }

  /** Runs `tick` every `everyMs` (on the injected clock) until the signal aborts. */
  async run(options: { everyMs?: number; signal: AbortSignal }): Promise<void> {
    const everyMs = options.everyMs ?? 5000;
    while (!options.signal.aborted) {
      await this.tick(options.signal).catch(() => {});
      await this.#clock.sleep(everyMs, options.signal).catch(() => {});
    }
  }

  /** Looks until no job is unfinished, at most `maxTicks` looks; returns how many are still open. */
  async runUntilIdle(
    options: { maxTicks?: number; everyMs?: number; signal?: AbortSignal } = {},
  ): Promise<number> {
    let open = 0;
    for (let i = 0; i < (options.maxTicks ?? 1000); i++) {
      open = await this.tick(options.signal);
      if (open === 0) return 0;
      if (options.everyMs) await this.#clock.sleep(options.everyMs, options.signal);
    }
    return open;
  }

  /** Moves one job one transition on. */
  async step(job: Finetune, signal?: AbortSignal): Promise<Finetune | undefined> {
    const now = () => this.#clock.now();
    const backend = this.#deps.backends.get(job.backend);
    if (!backend) {
      return this.#repo.advance(
        job.id,
        job.state,
        { state: 'failed', error: `the ${job.backend} backend is not available on this server` },
        now(),
      );
    }
    const context = await this.#context(job, signal);
    try {
      if (job.cancelRequested) {
        if (job.state === 'training' && job.external) await backend.cancel(context, job.external);
        return this.#repo.advance(job.id, job.state, { state: 'cancelled' }, now());
      }
      if (job.state === 'queued') {
        const external = await backend.submit(context);
        return this.#repo.advance(job.id, 'queued', { state: 'training', external, progress: 0 }, now());
      }
      if (job.state === 'training') {
        const status: TrainingStatus = await backend.poll(context, job.external ?? {});
        if (status.state === 'running') {
          return this.#repo.advance(
            job.id,
            'training',
            { progress: status.progress, external: status.external },
            now(),
          );
        }
        if (status.state === 'succeeded') {
          const next = await this.#repo.advance(
            job.id,
            'training',
            { state: 'evaluating', progress: 1, external: status.external, weights: status.weights },
            now(),
          );
          await this.#deps.registry.refresh(this.#repo);
          return next;
        }
        if (status.state === 'failed') {
          return this.#repo.advance(
            job.id,
            'training',
            { state: 'failed', external: status.external, error: status.error },
            now(),
          );
        }
        return this.#repo.advance(
          job.id,
          'training',
          { state: 'cancelled', external: status.external },
          now(),
        );
      }
      if (job.state === 'evaluating') return await this.#evaluate(job, signal);
      return job;
    } catch (error) {
      if (signal?.aborted) throw error;
      const retryable = PixelError.isInstance(error) && error.retryable;
      if (retryable) return job; // a provider hiccup: the next look tries again
      const message = error instanceof Error ? error.message : String(error);
      return this.#repo.advance(job.id, job.state, { state: 'failed', error: message }, now());
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
      { catalog: this.#deps.catalog, adapter: this.#deps.adapter, judge: this.#deps.judge },
      { margin: this.#deps.margin ?? 0.2, ...(signal && { signal }) },
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
