import { z } from 'zod';
import { invalidArgument } from '../../protocol/errors.ts';
import { QUESTION_CATEGORIES, type Question } from '../types.ts';

export const QUESTION_ID_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;

export const QuestionSchema = z
  .object({
    id: z.string().regex(QUESTION_ID_RE, { message: 'must be a lowercase slug (letters, digits, -)' }),
    text: z.string().trim().min(3).max(500),
    expected: z.enum(['yes', 'no']),
    category: z.enum(QUESTION_CATEGORIES),
    critical: z.boolean(),
    dependsOn: z.string().regex(QUESTION_ID_RE).optional(),
    fixHint: z.string().trim().min(1).max(500),
    source: z.enum(['rubric', 'llm', 'team']),
  })
  .strict();

/** Most questions one item may carry: one judge call answers them all. */
export const MAX_QUESTIONS = 40;

/**
 * Checks a question set as a whole: each question well-formed, ids unique, every `dependsOn`
 * naming another question of the set, and no dependency cycle. Errors name the field.
 */
export function validateQuestions(input: unknown, field = 'questions'): Question[] {
  if (!Array.isArray(input)) throw invalidArgument(field, `${field} must be a list of questions`);
  if (input.length > MAX_QUESTIONS)
    throw invalidArgument(field, `${field} has ${input.length} questions; at most ${MAX_QUESTIONS}`);
  const out: Question[] = input.map((raw, i) => {
    const parsed = QuestionSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = issue.path.length > 0 ? `.${issue.path.join('.')}` : '';
      throw invalidArgument(`${field}[${i}]${path}`, `${field}[${i}]${path} ${issue.message}`);
    }
    const q = parsed.data;
    return q.dependsOn === undefined ? { ...q, dependsOn: undefined } : q;
  });
  const ids = new Map<string, number>();
  out.forEach((q, i) => {
    if (ids.has(q.id))
      throw invalidArgument(`${field}[${i}].id`, `${field}[${i}].id "${q.id}" is used twice`);
    ids.set(q.id, i);
  });
  out.forEach((q, i) => {
    if (q.dependsOn === undefined) return;
    if (q.dependsOn === q.id)
      throw invalidArgument(
        `${field}[${i}].dependsOn`,
        `${field}[${i}].dependsOn: a question cannot depend on itself`,
      );
    if (!ids.has(q.dependsOn))
      throw invalidArgument(
        `${field}[${i}].dependsOn`,
        `${field}[${i}].dependsOn names "${q.dependsOn}", which is not a question of this set`,
      );
  });
  for (const q of out) {
    const seen = new Set<string>([q.id]);
    let parent = q.dependsOn;
    while (parent !== undefined) {
      if (seen.has(parent))
        throw invalidArgument(
          `${field}[${ids.get(q.id)}].dependsOn`,
          `${field}: dependency cycle through "${parent}"`,
        );
      seen.add(parent);
      parent = out[ids.get(parent)!]!.dependsOn;
    }
  }
  return out.map(({ dependsOn, ...rest }) => (dependsOn === undefined ? rest : { ...rest, dependsOn }));
}
