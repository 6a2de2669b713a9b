import type { ApplicationResolver } from '../../apps/apply.ts';
import { appFieldsOf } from '../../apps/resolve.ts';
import type { Queryable } from '../../catalog/db.ts';
import { ImageRepo } from '../../catalog/images.ts';
import { invalidArgument, PixelError } from '../../protocol/errors.ts';
import type { Caller, GenerateAndStoreResult, ServiceProgress } from '../../server/image-service.ts';
import { recordJudgement } from '../calibration/record.ts';
import { judgeModelInfo } from '../judges/catalog.ts';
import { languageModel, parseLlmSpec } from '../llm/models.ts';
import { type GateProgress, type GateResult, runGate } from '../loop/loop.ts';
import { createLlmPromptWriter } from '../prompts/llm-writer.ts';
import { createTemplateWriter } from '../prompts/template-writer.ts';
import type { PromptWriter } from '../prompts/types.ts';
import { createLlmQuestionWriter } from '../questions/llm-writer.ts';
import { questionsFor } from '../questions/questions.ts';
import { QuestionStore } from '../questions/store.ts';
import { queueReason, ReviewService } from '../review/service.ts';
import { buildJudge, type ConnectionFor } from './judge-factory.ts';
import { type GateOptions, gateWanted, parseGateOptions } from './options.ts';

/** What the gate needs of the image use cases: generate one image and store it (with lineage). */
export interface GenerateAndStore {
  generateAndStore(
    input: unknown,
    caller: Caller,
    options: { signal?: AbortSignal; onProgress?: (event: ServiceProgress) => void },
  ): Promise<GenerateAndStoreResult>;
}

export interface QualityGateDeps {
  images: GenerateAndStore;
  resolve: ApplicationResolver;
  db: Queryable;
  connections: ConnectionFor;
  /** `request` (default): only a request's `gate` field turns the gate on; `auto`: an enabled application policy does too. */
  mode?: 'request' | 'auto';
  /** The judge when the request names none (PIXEL_QUALITY_JUDGE; default pixel/inspect). */
  defaultJudge?: string;
  /** Which outcomes go to the review queue. */
  review?: { mode: 'passed' | 'sample' | 'all'; failedSample: number };
  random?: () => number;
}

export type GateEvent = ServiceProgress | (GateProgress & { gate: true });

export interface GatedResult {
  /** The best attempt's generation (its image is the answer). */
  result: GenerateAndStoreResult;
  gate: GateResult & {
    judge: string;
    questions: {
      writer: string;
      cached: boolean;
      items: Array<{ id: string; text: string; expected: string; category: string; critical: boolean }>;
    };
  };
}

/** Defaults when the application has no `quality` block. */
const FALLBACK_POLICY = { threshold: 0.8, maxRounds: 3, budgetUsd: 0.5 };

/**
 * Generate with the quality gate: resolve the application, get the item's questions, then run the
 * refinement loop with "generate one image" = the image service (so every attempt is a stored,
 * catalogued image with lineage) and "store attempt" = the gate's record on that image (round,
 * parent, prompt, answers, score, cost), its judge answers for calibration and the review queue.
 */
export class QualityGate {
  readonly #deps: QualityGateDeps;
  readonly #questions: QuestionStore;
  readonly #reviews: ReviewService;
  readonly #images: ImageRepo;

  constructor(deps: QualityGateDeps) {
    this.#deps = deps;
    this.#questions = new QuestionStore(deps.db);
    this.#reviews = new ReviewService(deps.db);
    this.#images = new ImageRepo(deps.db);
  }

  /** Whether this request runs through the gate (its `quality` field, or the application's policy). */
  wants(input: unknown, appPolicy?: { enabled?: boolean }): boolean {
    const raw = (input ?? {}) as Record<string, unknown>;
    return gateWanted(parseGateOptions(raw.gate), appPolicy, this.#deps.mode ?? 'request');
  }

  async run(
    input: unknown,
    caller: Caller,
    options: { signal?: AbortSignal; onProgress?: (event: GateEvent) => void } = {},
  ): Promise<GatedResult> {
    if (caller.role === 'viewer')
      throw new PixelError({
        code: 'permission_denied',
        reason: 'role',
        message: 'generating needs the member role',
      });
    if (input === null || typeof input !== 'object')
      throw invalidArgument('request', 'the request must be an object');
    const raw = { ...(input as Record<string, unknown>) };
    const gateOptions: GateOptions = parseGateOptions(raw.gate);
    delete raw.gate;
    if (raw.app === undefined)
      throw invalidArgument(
        'gate',
        'the quality gate needs an application (app and vars): its rubric is what the judge checks',
      );
    if (raw.n !== undefined && raw.n !== 1)
      throw invalidArgument('n', 'the quality gate makes one image per request (n must be 1)');
    const fields = appFieldsOf(raw);
    const rest: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw))
      if (!['app', 'vars', 'appLabel', 'appVersion'].includes(k)) rest[k] = v;
    const resolved = await this.#deps.resolve({
      app: fields.app,
      vars: fields.vars,
      label: fields.label,
      version: fields.version,
      team: caller.team,
      request: rest,
    });
    const vars = fields.vars;
    const policy = {
      threshold: gateOptions.threshold ?? resolved.quality?.threshold ?? FALLBACK_POLICY.threshold,
      maxRounds: gateOptions.maxRounds ?? resolved.quality?.maxRounds ?? FALLBACK_POLICY.maxRounds,
      budgetUsd: gateOptions.budgetUsd ?? resolved.quality?.budgetUsd ?? FALLBACK_POLICY.budgetUsd,
      unsure: gateOptions.unsure ?? resolved.quality?.unsure ?? 'ignore',
    };
    const judgeName = gateOptions.judge ?? this.#deps.defaultJudge ?? 'pixel/inspect';
    const judge = buildJudge(judgeName, this.#deps.connections);
    const questionWriter = gateOptions.questionWriter
      ? createLlmQuestionWriter(
          this.#llm(gateOptions.questionWriter, 'gate.questionWriter'),
          gateOptions.questionWriter,
        )
      : undefined;
    const writer: PromptWriter =
      gateOptions.promptWriter && gateOptions.promptWriter !== 'template'
        ? createLlmPromptWriter(
            this.#llm(gateOptions.promptWriter, 'gate.promptWriter'),
            gateOptions.promptWriter,
            judgeModelInfo(gateOptions.promptWriter, 'gate.promptWriter').price,
          )
        : createTemplateWriter();
    const set = await questionsFor(
      {
        app: resolved.app,
        appVersion: resolved.appVersion,
        appDescription: resolved.app,
        vars,
        prompt: resolved.prompt,
        rubric: resolved.rubric,
      },
      {
        store: this.#questions,
        ...(questionWriter ? { writer: questionWriter } : {}),
        signal: options.signal,
      },
    );
    if (set.questions.length === 0)
      throw new PixelError({
        code: 'failed_precondition',
        field: 'gate',
        reason: 'no_questions',
        message: `application ${resolved.app} has no rubric questions for the gate to check (add a rubric, or a question writer)`,
      });
    const results = new Map<number, GenerateAndStoreResult>();
    const emit = options.onProgress;
    const gate = await runGate<GenerateAndStoreResult>(
      {
        brief: {
          app: resolved.app,
          appDescription: resolved.app,
          vars,
          basePrompt: resolved.prompt,
          ...(resolved.negativePrompt ? { baseNegativePrompt: resolved.negativePrompt } : {}),
          fewShots: resolved.fewShots,
        },
        questions: set.questions,
        policy,
        signal: options.signal,
      },
      {
        judge,
        writer,
        onProgress: (e) => emit?.({ ...e, gate: true }),
        generate: async ({ prompt, negativePrompt, round, signal }) => {
          const request = {
            ...raw,
            prompt,
            ...(negativePrompt ? { negativePrompt } : {}),
            n: 1,
          };
          const result = await this.#deps.images.generateAndStore(request, caller, {
            signal,
            onProgress: (e) => {
              if (e.stage !== 'stored' && e.stage !== 'queued') emit?.(e);
            },
          });
          results.set(round, result);
          const image = result.images[0]!;
          const bytes = result.bytes?.[0];
          if (!bytes)
            throw new PixelError({
              code: 'internal',
              message: 'the image service returned no bytes for the gate to judge',
            });
          return {
            image: { bytes, mediaType: image.mediaType },
            costUsd: result.costEstimateUsd ?? 0,
            model: image.route,
            ref: result,
          };
        },
        store: async (attempt) => {
          const image = attempt.generated.ref!.images[0]!;
          if (attempt.parentId)
            await this.#deps.db.query(
              'UPDATE images SET parent_id = $2 WHERE id = $1 AND parent_id IS NULL',
              [image.id, attempt.parentId],
            );
          await this.#images.updateEvaluation(image.id, {
            judge: {
              gate: true,
              round: attempt.round,
              parentId: attempt.parentId ?? null,
              prompt: attempt.prompt,
              negativePrompt: attempt.negativePrompt ?? null,
              writer: attempt.writer,
              judge: attempt.judge,
              status: attempt.evaluation.status,
              score: attempt.evaluation.score,
              threshold: attempt.evaluation.threshold,
              reasons: attempt.evaluation.reasons,
              answers: attempt.evaluation.answers,
              costUsd: attempt.costUsd,
              ...(attempt.judgeResult?.cascade ? { cascade: attempt.judgeResult.cascade } : {}),
              ...(attempt.judgeError ? { judgeError: attempt.judgeError.toJSON() } : {}),
            },
          });
          await recordJudgement(this.#deps.db, {
            imageId: image.id,
            app: resolved.app,
            team: caller.team,
            model: image.route,
            judge: attempt.judge,
            round: attempt.round,
            score: attempt.evaluation.score,
            passed: attempt.evaluation.passed,
            questions: attempt.questions,
            answers: attempt.evaluation.answers,
          });
          return { imageId: image.id };
        },
      },
    );
    const reason = queueReason(
      gate.verdict.status,
      this.#deps.review ?? { mode: 'sample', failedSample: 0.1 },
      this.#deps.random ?? Math.random,
    );
    if (reason)
      await this.#reviews.enqueue(gate.best.imageId, { app: resolved.app, team: caller.team, reason });
    const best = results.get(gate.best.round)!;
    return {
      result: best,
      gate: {
        ...gate,
        judge: judge.id,
        questions: {
          writer: set.writer,
          cached: set.cached,
          items: set.questions.map((q) => ({
            id: q.id,
            text: q.text,
            expected: q.expected,
            category: q.category,
            critical: q.critical,
          })),
        },
      },
    };
  }

  #llm(id: string, field: string) {
    const spec = parseLlmSpec(id, field);
    return languageModel(spec, this.#deps.connections(spec.provider));
  }
}
