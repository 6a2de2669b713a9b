import type { Queryable } from '../../catalog/db.ts';
import type { Answer, Question } from '../types.ts';

/** Keeps what the gate decided about a stored image: every answer (per judge and path) and the verdict. */
export async function recordJudgement(
  db: Queryable,
  input: {
    imageId: string;
    app?: string;
    team: string;
    model: string;
    judge: string;
    round: number;
    score: number | null;
    passed: boolean;
    questions: readonly Question[];
    answers: readonly Answer[];
  },
): Promise<void> {
  const byId = new Map(input.questions.map((q) => [q.id, q]));
  const rows: unknown[][] = [];
  const push = (a: Answer) => {
    const q = byId.get(a.questionId);
    if (!q || a.skipped) return;
    rows.push([
      input.imageId,
      input.app ?? null,
      input.team,
      input.model,
      a.judge,
      a.path,
      q.id,
      q.category,
      q.critical,
      q.expected,
      a.answer,
      a.pYes,
    ]);
  };
  for (const a of input.answers) {
    push(a);
    // An ensemble's members are calibrated on their own too.
    for (const part of a.parts ?? []) push(part);
  }
  for (const r of rows)
    await db.query(
      `INSERT INTO quality_answers (image_id, application, team, model, judge, path, question_id, category, critical, expected, answer, p_yes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`,
      r,
    );
  await db.query(
    `INSERT INTO quality_verdicts (image_id, application, team, model, judge, round, score, passed)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (image_id) DO NOTHING`,
    [
      input.imageId,
      input.app ?? null,
      input.team,
      input.model,
      input.judge,
      input.round,
      input.score,
      input.passed,
    ],
  );
}
