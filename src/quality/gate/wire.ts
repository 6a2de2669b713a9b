import type { JsonObject } from '@bufbuild/protobuf';
import type { GateOptions as WireGateOptions } from '../../gen/pixel/v1/quality_pb.ts';
import type { GateSummary } from './gated-service.ts';

export type { GateSummary };

/** `pixel.v1.GateOptions` → the request's `gate` field (only what was set). */
export function gateOptionsFromWire(g: WireGateOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (g.enabled !== undefined) out.enabled = g.enabled;
  if (g.judge !== undefined) out.judge = g.judge;
  if (g.threshold !== undefined) out.threshold = g.threshold;
  if (g.maxRounds !== undefined) out.maxRounds = g.maxRounds;
  if (g.budgetUsd !== undefined) out.budgetUsd = g.budgetUsd;
  if (g.unsure !== undefined) out.unsure = g.unsure;
  if (g.promptWriter !== undefined) out.promptWriter = g.promptWriter;
  if (g.questionWriter !== undefined) out.questionWriter = g.questionWriter;
  return out;
}

const defined = <T extends Record<string, unknown>>(o: T): JsonObject =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as JsonObject;

/** The gate's outcome as `pixel.v1.GateResult` JSON. */
export function gateResultJson(gate: GateSummary): JsonObject {
  return defined({
    judge: gate.judge,
    spentUsd: gate.spentUsd,
    questionWriter: gate.questions.writer,
    verdict: defined({
      status: gate.verdict.status,
      score: gate.verdict.score,
      threshold: gate.verdict.threshold,
      round: gate.verdict.round,
      reasons: gate.verdict.reasons,
      stopReason: gate.verdict.stopReason,
    }),
    rounds: gate.rounds.map((r) =>
      defined({
        round: r.round,
        imageId: r.imageId,
        parentId: r.parentId,
        prompt: r.prompt,
        negativePrompt: r.negativePrompt,
        writer: r.writer,
        model: r.model,
        judge: r.judge,
        score: r.score,
        status: r.status,
        failed: r.failed,
        reasons: r.reasons,
        costUsd: r.costUsd,
        cascade: r.cascade,
        answers: r.answers.map((a) =>
          defined({
            questionId: a.questionId,
            answer: a.answer,
            pYes: a.pYes,
            path: a.path,
            judge: a.judge,
            skipped: a.skipped === true,
            note: a.note,
          }),
        ),
      }),
    ),
  });
}

type WireRound = Partial<{
  round: number;
  imageId: string;
  parentId: string;
  prompt: string;
  negativePrompt: string;
  writer: string;
  model: string;
  judge: string;
  score: number;
  status: string;
  failed: string[];
  reasons: string[];
  costUsd: number;
  cascade: { answeredOffline: number; askedPaid: number; savedUsd: number };
  answers: Array<
    Partial<{
      questionId: string;
      answer: string;
      pYes: number;
      path: string;
      judge: string;
      skipped: boolean;
      note: string;
    }>
  >;
}>;

/** A server's `pixel.v1.GateResult` (as proto JSON) back into the summary the CLI prints. */
export function gateSummaryFromWire(value: unknown): GateSummary {
  const g = (value ?? {}) as Partial<{
    judge: string;
    spentUsd: number;
    questionWriter: string;
    verdict: Partial<{
      status: string;
      score: number;
      threshold: number;
      round: number;
      reasons: string[];
      stopReason: string;
    }>;
    rounds: WireRound[];
  }>;
  const v = g.verdict ?? {};
  return {
    judge: g.judge ?? '',
    spentUsd: g.spentUsd ?? 0,
    questions: { writer: g.questionWriter ?? '', cached: false, items: [] },
    verdict: {
      status: (v.status ?? 'failed') as GateSummary['verdict']['status'],
      score: v.score ?? null,
      threshold: v.threshold ?? 0,
      round: v.round ?? 0,
      reasons: v.reasons ?? [],
      stopReason: (v.stopReason ?? 'max_rounds') as GateSummary['verdict']['stopReason'],
    },
    rounds: (g.rounds ?? []).map((r) => ({
      round: r.round ?? 0,
      imageId: r.imageId ?? '',
      ...(r.parentId ? { parentId: r.parentId } : {}),
      prompt: r.prompt ?? '',
      ...(r.negativePrompt ? { negativePrompt: r.negativePrompt } : {}),
      writer: r.writer ?? '',
      model: r.model ?? '',
      judge: r.judge ?? '',
      score: r.score ?? null,
      status: (r.status ?? 'failed') as GateSummary['verdict']['status'],
      failed: r.failed ?? [],
      reasons: r.reasons ?? [],
      costUsd: r.costUsd ?? 0,
      ...(r.cascade
        ? {
            cascade: {
              answeredOffline: r.cascade.answeredOffline ?? 0,
              askedPaid: r.cascade.askedPaid ?? 0,
              savedUsd: r.cascade.savedUsd ?? 0,
            },
          }
        : {}),
      answers: (r.answers ?? []).map((a) => ({
        questionId: a.questionId ?? '',
        answer: (a.answer ?? 'unsure') as 'yes' | 'no' | 'unsure',
        pYes: a.pYes ?? null,
        path: (a.path ?? 'none') as GateSummary['rounds'][number]['answers'][number]['path'],
        judge: a.judge ?? '',
        ...(a.skipped ? { skipped: true as const } : {}),
        ...(a.note ? { note: a.note } : {}),
      })),
    })),
  };
}
