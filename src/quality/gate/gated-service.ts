import type { ApplicationResolver } from '../../apps/apply.ts';
import { appFieldsOf } from '../../apps/resolve.ts';
import { invalidArgument } from '../../protocol/errors.ts';
import {
  type Caller,
  type GenerateAndStoreResult,
  ImageService,
  type ImageServiceDeps,
  type ServiceProgress,
} from '../../server/image-service.ts';
import { type ConnectionFor, envConnections } from './judge-factory.ts';
import { type GatedResult, QualityGate } from './service.ts';

/** What a gated generation adds to the image service's answer. */
export interface GateSummary {
  judge: string;
  verdict: GatedResult['gate']['verdict'];
  rounds: GatedResult['gate']['rounds'];
  spentUsd: number;
  questions: GatedResult['gate']['questions'];
}

export type MaybeGatedResult = GenerateAndStoreResult & { gate?: GateSummary };

export interface GateSettings {
  /** PIXEL_QUALITY_GATE: `request` (default) or `auto` (an application's enabled policy turns it on). */
  mode: 'request' | 'auto';
  /** PIXEL_QUALITY_JUDGE: the judge when the request names none (default pixel/inspect). */
  judge: string;
  /** PIXEL_QUALITY_REVIEW: `passed`, `sample` (default; with PIXEL_QUALITY_REVIEW_SAMPLE, default 0.1) or `all`. */
  review: { mode: 'passed' | 'sample' | 'all'; failedSample: number };
}

export function gateSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): GateSettings {
  const mode = env.PIXEL_QUALITY_GATE === 'auto' ? 'auto' : 'request';
  const reviewMode = env.PIXEL_QUALITY_REVIEW;
  const sample = Number(env.PIXEL_QUALITY_REVIEW_SAMPLE ?? '0.1');
  return {
    mode,
    judge: env.PIXEL_QUALITY_JUDGE?.trim() || 'pixel/inspect',
    review: {
      mode: reviewMode === 'passed' || reviewMode === 'all' ? reviewMode : 'sample',
      failedSample: Number.isFinite(sample) ? Math.min(1, Math.max(0, sample)) : 0.1,
    },
  };
}

/**
 * The image service with the quality gate in front: a request whose `gate` field turns the gate on
 * (or, in `auto` mode, whose application's policy does) runs the refinement loop, each round one
 * ordinary generate-and-store; the answer is the best round's, with `gate` (rounds and verdict)
 * added. Every other request goes straight through, its `gate: false` field removed.
 */
export class GatedImageService extends ImageService {
  readonly #gate: QualityGate;
  readonly #mode: 'request' | 'auto';
  readonly #resolve: ApplicationResolver;

  constructor(deps: ImageServiceDeps, settings: GateSettings, connections: ConnectionFor = envConnections()) {
    super(deps);
    this.#mode = settings.mode;
    this.#resolve = deps.applications;
    const ungated = {
      generateAndStore: (
        input: unknown,
        caller: Caller,
        options: { signal?: AbortSignal; onProgress?: (e: ServiceProgress) => void },
      ) => super.generateAndStore(input, caller, options),
    };
    this.#gate = new QualityGate({
      images: ungated,
      resolve: deps.applications,
      db: deps.db,
      connections,
      mode: settings.mode,
      defaultJudge: settings.judge,
      review: settings.review,
    });
  }

  override async generateAndStore(
    input: unknown,
    caller: Caller,
    options: Parameters<ImageService['generateAndStore']>[2] = {},
  ): Promise<MaybeGatedResult> {
    if (input === null || typeof input !== 'object' || Array.isArray(input))
      return super.generateAndStore(input, caller, options);
    const raw = input as Record<string, unknown>;
    const hasField = raw.gate !== undefined;
    const wanted = hasField
      ? this.#gate.wants(raw)
      : this.#mode === 'auto' && raw.app !== undefined && (await this.#appEnabled(raw, caller));
    if (!wanted) {
      if (!hasField) return super.generateAndStore(input, caller, options);
      const { gate: _off, ...rest } = raw;
      return super.generateAndStore(rest, caller, options);
    }
    if (options.edit)
      throw invalidArgument('gate', 'the quality gate does not run on edits (input images) yet');
    if (options.idempotencyKey !== undefined)
      throw invalidArgument(
        'idempotency_key',
        'the quality gate does not take an idempotency key yet; send the request without one',
      );
    options.onProgress?.({ stage: 'queued' });
    const { result, gate } = await this.#gate.run(hasField ? raw : { ...raw, gate: true }, caller, {
      signal: options.signal,
      onProgress: (e) => {
        if ('gate' in e) {
          if (e.stage === 'judging')
            options.onProgress?.({
              stage: 'judging',
              round: e.round,
              maxRounds: e.maxRounds,
              questions: e.questions,
            });
        } else options.onProgress?.(e);
      },
    });
    options.onProgress?.({ stage: 'stored', count: gate.rounds.length });
    return {
      ...result,
      gate: {
        judge: gate.judge,
        verdict: gate.verdict,
        rounds: gate.rounds,
        spentUsd: gate.spentUsd,
        questions: gate.questions,
      },
    };
  }

  /** In `auto` mode: whether the application's policy (for this caller's version) turns the gate on. */
  async #appEnabled(raw: Record<string, unknown>, caller: Caller): Promise<boolean> {
    const fields = appFieldsOf(raw);
    const resolved = await this.#resolve({
      app: fields.app,
      vars: fields.vars,
      label: fields.label,
      version: fields.version,
      team: caller.team,
      request: {},
    }).catch(() => undefined);
    return resolved?.quality?.enabled === true;
  }
}
