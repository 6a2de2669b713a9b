import type { Answer, Question } from '../types.ts';

/** What an `unsure` answer counts as: a miss, nothing (left out of the score), or nothing but flag the image for people. */
export const UNSURE_POLICIES = ['fail', 'ignore', 'review'] as const;
export type UnsurePolicy = (typeof UNSURE_POLICIES)[number];

export type VerdictStatus = 'passed' | 'failed' | 'needs_review';

export interface Evaluation {
  status: VerdictStatus;
  passed: boolean;
  /** Share of counted questions answered as expected; null when nothing could be counted. */
  score: number | null;
  threshold: number;
  /** Answers with `skipped` set where the parent did not match. */
  answers: Answer[];
  failed: Array<{ question: Question; answer: Answer }>;
  unsure: string[];
  skipped: string[];
  criticalFailed: string[];
  /** Why the image did not pass, in words. */
  reasons: string[];
}

/**
 * The pass rule: every critical question matches its expected answer, and the share of matching
 * questions reaches the threshold. A question whose parent did not match is skipped (left out),
 * as in DSG. `unsure` follows the policy.
 */
export function evaluate(
  questions: readonly Question[],
  answers: readonly Answer[],
  threshold: number,
  unsurePolicy: UnsurePolicy,
): Evaluation {
  const byId = new Map(answers.map((a) => [a.questionId, a]));
  const byQ = new Map(questions.map((q) => [q.id, q]));
  const matches = (q: Question): boolean => byId.get(q.id)?.answer === q.expected;
  const memo = new Map<string, boolean>();
  /** A question is live when every ancestor matched. */
  const live = (q: Question): boolean => {
    if (q.dependsOn === undefined) return true;
    const cached = memo.get(q.id);
    if (cached !== undefined) return cached;
    const parent = byQ.get(q.dependsOn);
    const value = parent === undefined ? true : live(parent) && matches(parent);
    memo.set(q.id, value);
    return value;
  };
  let counted = 0;
  let matched = 0;
  const failed: Evaluation['failed'] = [];
  const unsure: string[] = [];
  const skipped: string[] = [];
  const criticalFailed: string[] = [];
  const outAnswers: Answer[] = [];
  for (const q of questions) {
    const a = byId.get(q.id) ?? {
      questionId: q.id,
      answer: 'unsure' as const,
      pYes: null,
      path: 'none' as const,
      judge: 'none',
      note: 'not answered',
    };
    if (!live(q)) {
      skipped.push(q.id);
      outAnswers.push({ ...a, skipped: true });
      continue;
    }
    outAnswers.push(a);
    if (a.answer === 'unsure') {
      unsure.push(q.id);
      if (unsurePolicy !== 'fail') continue;
      counted++;
      failed.push({ question: q, answer: a });
      if (q.critical) criticalFailed.push(q.id);
      continue;
    }
    counted++;
    if (a.answer === q.expected) matched++;
    else {
      failed.push({ question: q, answer: a });
      if (q.critical) criticalFailed.push(q.id);
    }
  }
  const score = counted === 0 ? null : matched / counted;
  const reasons: string[] = [];
  if (criticalFailed.length > 0) reasons.push(`critical questions not met: ${criticalFailed.join(', ')}`);
  if (score === null) reasons.push('no question could be judged');
  else if (score < threshold) reasons.push(`score ${score.toFixed(2)} below threshold ${threshold}`);
  const passed = reasons.length === 0;
  const status: VerdictStatus = !passed
    ? 'failed'
    : unsurePolicy === 'review' && unsure.length > 0
      ? 'needs_review'
      : 'passed';
  if (status === 'needs_review') reasons.push(`unsure answers need a person: ${unsure.join(', ')}`);
  return {
    status,
    passed,
    score,
    threshold,
    answers: outAnswers,
    failed,
    unsure,
    skipped,
    criticalFailed,
    reasons,
  };
}
