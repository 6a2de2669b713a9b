import type { Answer, Judge, JudgeRequest, JudgeResult } from '../types.ts';

export interface CostEstimator {
  estimateCostUsd(questions: number): number;
}

/**
 * The offline judge answers first; the paid judge is asked only the questions it left unsure
 * (and not called at all when none are left). The result reports how many questions the offline
 * judge settled and what that saved: the paid judge's estimated cost for all questions minus its
 * estimate for the ones it was asked.
 */
export function createCascade(offline: Judge, paid: Judge & Partial<CostEstimator>): Judge {
  const id = `cascade(${offline.id}>${paid.id})`;
  return {
    id,
    family: paid.family,
    async judge(request: JudgeRequest): Promise<JudgeResult> {
      const first = await offline.judge(request);
      const settled = new Map<string, Answer>();
      first.answers.forEach((a) => {
        if (a.answer !== 'unsure') settled.set(a.questionId, a);
      });
      const rest = request.questions.filter((q) => !settled.has(q.id));
      const second =
        rest.length > 0
          ? await paid.judge({ ...request, questions: rest })
          : { answers: [], costUsd: 0, judges: [] };
      const fromPaid = new Map(second.answers.map((a) => [a.questionId, a]));
      const answers = request.questions.map((q) => settled.get(q.id) ?? fromPaid.get(q.id)!);
      const all = request.questions.length;
      const savedUsd = paid.estimateCostUsd
        ? Math.max(0, paid.estimateCostUsd(all) - (rest.length > 0 ? paid.estimateCostUsd(rest.length) : 0))
        : rest.length > 0
          ? (second.costUsd / rest.length) * settled.size
          : 0;
      return {
        answers,
        costUsd: first.costUsd + second.costUsd,
        ...(second.usage ? { usage: second.usage } : {}),
        judges: [...first.judges, ...second.judges],
        cascade: { answeredOffline: settled.size, askedPaid: rest.length, savedUsd },
      };
    },
  };
}
