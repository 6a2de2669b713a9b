import { PixelError, toPixelError } from '../../protocol/errors.ts';
import type { PromptAttempt, PromptBrief, PromptWriter } from '../prompts/types.ts';
import type { Judge, JudgeImage, JudgeResult, Question } from '../types.ts';
import { type Evaluation, evaluate, type UnsurePolicy } from './score.ts';

export interface GatePolicy {
  /** Share of questions (0–1) that must match, on top of every critical one. */
  threshold: number;
  maxRounds: number;
  /** Most the loop may spend on the item (images, judges, writers), in USD. */
  budgetUsd: number;
  unsure: UnsurePolicy;
}

/** One generated image, as the loop needs it. `ref` is whatever the generator wants back in `store`. */
export interface GeneratedAttempt<Ref = unknown> {
  image: JudgeImage;
  costUsd: number;
  model: string;
  ref?: Ref;
}

export type GenerateOne<Ref = unknown> = (input: {
  prompt: string;
  negativePrompt?: string;
  round: number;
  signal?: AbortSignal;
}) => Promise<GeneratedAttempt<Ref>>;

/** Everything one attempt produced, handed to storage. */
export interface AttemptRecord<Ref = unknown> {
  round: number;
  /** The image id of the previous round's attempt. */
  parentId?: string;
  prompt: string;
  negativePrompt?: string;
  writer: string;
  model: string;
  judge: string;
  questions: readonly Question[];
  evaluation: Evaluation;
  judgeResult?: JudgeResult;
  /** A judge failure: the attempt is stored and counts as failed. */
  judgeError?: PixelError;
  costUsd: { image: number; judge: number; writer: number; total: number };
  generated: GeneratedAttempt<Ref>;
}

export type StoreAttempt<Ref = unknown> = (attempt: AttemptRecord<Ref>) => Promise<{ imageId: string }>;

export type GateProgress =
  | { stage: 'writing'; round: number; maxRounds: number }
  | { stage: 'generating'; round: number; maxRounds: number }
  | { stage: 'judging'; round: number; maxRounds: number; questions: number }
  | {
      stage: 'judged';
      round: number;
      maxRounds: number;
      score: number | null;
      status: Evaluation['status'];
      spentUsd: number;
    };

export interface RoundResult {
  round: number;
  imageId: string;
  parentId?: string;
  prompt: string;
  negativePrompt?: string;
  writer: string;
  model: string;
  judge: string;
  score: number | null;
  status: Evaluation['status'];
  answers: Evaluation['answers'];
  failed: string[];
  reasons: string[];
  costUsd: number;
  judgeError?: { code: string; reason?: string; message: string };
  cascade?: JudgeResult['cascade'];
}

export type StopReason = 'passed' | 'needs_review' | 'max_rounds' | 'budget' | 'judge_error';

export interface GateResult {
  /** The best attempt: a passing one, else the highest score (earliest on ties). */
  best: RoundResult;
  verdict: {
    status: Evaluation['status'];
    score: number | null;
    threshold: number;
    round: number;
    reasons: string[];
    stopReason: StopReason;
  };
  rounds: RoundResult[];
  spentUsd: number;
}

export interface GateDeps<Ref = unknown> {
  generate: GenerateOne<Ref>;
  store: StoreAttempt<Ref>;
  judge: Judge;
  writer: PromptWriter;
  onProgress?: (event: GateProgress) => void;
}

export interface GateInput {
  /** The prompt brief without history (the loop fills it). */
  brief: Omit<PromptBrief, 'history'>;
  questions: readonly Question[];
  policy: GatePolicy;
  signal?: AbortSignal;
}

const rank = (r: RoundResult) => (r.status === 'passed' ? 2 : r.status === 'needs_review' ? 1 : 0);

function better(a: RoundResult, b: RoundResult | undefined): boolean {
  if (!b) return true;
  if (rank(a) !== rank(b)) return rank(a) > rank(b);
  return (a.score ?? -1) > (b.score ?? -1);
}

function checkPolicy(p: GatePolicy): void {
  const bad = (field: string, message: string) =>
    new PixelError({ code: 'invalid_argument', field: `gate.${field}`, reason: 'validation', message });
  if (!(p.threshold >= 0 && p.threshold <= 1))
    throw bad('threshold', `gate.threshold must be within 0–1, got ${p.threshold}`);
  if (!Number.isInteger(p.maxRounds) || p.maxRounds < 1 || p.maxRounds > 10)
    throw bad('maxRounds', `gate.maxRounds must be an integer 1–10, got ${p.maxRounds}`);
  if (!(p.budgetUsd >= 0)) throw bad('budgetUsd', `gate.budgetUsd must be 0 or more, got ${p.budgetUsd}`);
}

/**
 * The refinement loop: write a prompt, generate, judge, keep the best; stop on a pass, when the
 * rounds run out, or when the budget cannot pay for another round like the last one. Every
 * attempt is stored (with its parent, the previous round's image). Cancelling through the signal
 * stops between and within steps; attempts already stored stay.
 */
export async function runGate<Ref>(input: GateInput, deps: GateDeps<Ref>): Promise<GateResult> {
  const { policy, questions, signal } = input;
  checkPolicy(policy);
  const history: PromptAttempt[] = [];
  const rounds: RoundResult[] = [];
  let best: RoundResult | undefined;
  let spent = 0;
  let lastRoundCost = 0;
  let stopReason: StopReason = 'max_rounds';
  const aborted = () => {
    if (signal?.aborted) throw toPixelError(signal.reason ?? new DOMException('cancelled', 'AbortError'));
  };
  for (let round = 1; round <= policy.maxRounds; round++) {
    aborted();
    if (round > 1 && spent + lastRoundCost > policy.budgetUsd) {
      stopReason = 'budget';
      break;
    }
    const base = { round, maxRounds: policy.maxRounds };
    deps.onProgress?.({ stage: 'writing', ...base });
    const written = await deps.writer.write({ ...input.brief, history }, signal);
    aborted();
    deps.onProgress?.({ stage: 'generating', ...base });
    const generated = await deps.generate({
      prompt: written.prompt,
      ...(written.negativePrompt ? { negativePrompt: written.negativePrompt } : {}),
      round,
      signal,
    });
    aborted();
    deps.onProgress?.({ stage: 'judging', ...base, questions: questions.length });
    let judgeResult: JudgeResult | undefined;
    let judgeError: PixelError | undefined;
    try {
      judgeResult = await deps.judge.judge({ image: generated.image, questions, signal });
    } catch (error) {
      const e = toPixelError(error);
      if (e.code === 'cancelled') throw e;
      judgeError = e;
    }
    const evaluation = evaluate(questions, judgeResult?.answers ?? [], policy.threshold, policy.unsure);
    if (judgeError) {
      evaluation.status = 'failed';
      evaluation.passed = false;
      evaluation.reasons.unshift(`judge error: ${judgeError.message}`);
    }
    const cost = {
      image: generated.costUsd,
      judge: judgeResult?.costUsd ?? 0,
      writer: written.costUsd,
      total: generated.costUsd + (judgeResult?.costUsd ?? 0) + written.costUsd,
    };
    spent += cost.total;
    lastRoundCost = cost.total;
    const parentId = rounds.at(-1)?.imageId;
    const { imageId } = await deps.store({
      round,
      ...(parentId ? { parentId } : {}),
      prompt: written.prompt,
      ...(written.negativePrompt ? { negativePrompt: written.negativePrompt } : {}),
      writer: written.writer,
      model: generated.model,
      judge: deps.judge.id,
      questions,
      evaluation,
      ...(judgeResult ? { judgeResult } : {}),
      ...(judgeError ? { judgeError } : {}),
      costUsd: cost,
      generated,
    });
    const result: RoundResult = {
      round,
      imageId,
      ...(parentId ? { parentId } : {}),
      prompt: written.prompt,
      ...(written.negativePrompt ? { negativePrompt: written.negativePrompt } : {}),
      writer: written.writer,
      model: generated.model,
      judge: deps.judge.id,
      score: evaluation.score,
      status: evaluation.status,
      answers: evaluation.answers,
      failed: evaluation.failed.map((f) => f.question.id),
      reasons: evaluation.reasons,
      costUsd: cost.total,
      ...(judgeError
        ? {
            judgeError: {
              code: judgeError.code,
              ...(judgeError.reason ? { reason: judgeError.reason } : {}),
              message: judgeError.message,
            },
          }
        : {}),
      ...(judgeResult?.cascade ? { cascade: judgeResult.cascade } : {}),
    };
    rounds.push(result);
    if (better(result, best)) best = result;
    deps.onProgress?.({
      stage: 'judged',
      ...base,
      score: evaluation.score,
      status: evaluation.status,
      spentUsd: spent,
    });
    if (judgeError) {
      stopReason = 'judge_error';
      break;
    }
    if (evaluation.status === 'passed') {
      stopReason = 'passed';
      break;
    }
    if (evaluation.status === 'needs_review') {
      stopReason = 'needs_review';
      break;
    }
    history.push({
      round,
      prompt: written.prompt,
      ...(written.negativePrompt ? { negativePrompt: written.negativePrompt } : {}),
      score: evaluation.score,
      failed: evaluation.failed,
    });
  }
  const chosen = best!;
  return {
    best: chosen,
    verdict: {
      status: chosen.status,
      score: chosen.score,
      threshold: policy.threshold,
      round: chosen.round,
      reasons: chosen.reasons,
      stopReason,
    },
    rounds,
    spentUsd: spent,
  };
}
