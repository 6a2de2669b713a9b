import { invalidArgument } from '../../protocol/errors.ts';
import type { Answer, Judge, JudgeRequest, JudgeResult } from '../types.ts';

/** Means this close to 0.5 with members disagreeing are `unsure`. */
const SPLIT_BAND = 0.1;

/**
 * Several judges of different model families asked the same questions at once; each answer is
 * the mean of the members' P(yes) (members that were unsure are left out). A judge's bias toward
 * its own family's images is diluted this way. Any member's error fails the whole call.
 */
export function createEnsemble(members: readonly Judge[]): Judge {
  const families = new Set(members.map((m) => m.family));
  if (members.length < 2 || families.size < 2)
    throw invalidArgument(
      'judges',
      `an ensemble needs judges of at least two model families, got ${members.map((m) => `${m.id} (${m.family})`).join(', ') || 'none'}`,
    );
  const id = `ensemble(${members.map((m) => m.id).join('+')})`;
  return {
    id,
    family: [...families].join('+'),
    async judge(request: JudgeRequest): Promise<JudgeResult> {
      const results = await Promise.all(members.map((m) => m.judge(request)));
      const answers = request.questions.map((q, i): Answer => {
        const parts = results.map((r) => r.answers[i]!);
        const known = parts.filter((p) => p.pYes !== null && p.answer !== 'unsure');
        if (known.length === 0)
          return { questionId: q.id, answer: 'unsure', pYes: null, path: 'none', judge: id, parts };
        const mean = known.reduce((s, p) => s + p.pYes!, 0) / known.length;
        const split = new Set(known.map((p) => p.answer)).size > 1;
        const answer = split && Math.abs(mean - 0.5) < SPLIT_BAND ? 'unsure' : mean >= 0.5 ? 'yes' : 'no';
        return {
          questionId: q.id,
          answer,
          pYes: answer === 'unsure' ? null : mean,
          path: answer === 'unsure' ? 'none' : 'ensemble',
          judge: id,
          parts,
          ...(split ? { note: 'members disagreed' } : {}),
        };
      });
      return {
        answers,
        costUsd: results.reduce((s, r) => s + r.costUsd, 0),
        judges: results.flatMap((r) => r.judges),
      };
    },
  };
}
