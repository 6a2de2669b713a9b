import type { Question } from '../types.ts';
import { MAX_QUESTIONS } from './validate.ts';

const norm = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9 ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/**
 * The rubric's questions first (they are the team's contract), then the writer's questions that
 * ask something new: a writer question with the same text as a rubric one is dropped, one with a
 * clashing id is renamed `llm-<id>`. Dependencies on dropped questions point at the rubric twin.
 */
export function mergeQuestions(rubric: readonly Question[], written: readonly Question[]): Question[] {
  const out: Question[] = [...rubric];
  const ids = new Set(rubric.map((q) => q.id));
  const byText = new Map(rubric.map((q) => [norm(q.text), q.id]));
  const renamed = new Map<string, string>();
  for (const q of written) {
    const twin = byText.get(norm(q.text));
    if (twin !== undefined) {
      renamed.set(q.id, twin);
      continue;
    }
    let id = q.id;
    for (let k = 1; ids.has(id) && k < 100; k++) id = k === 1 ? `llm-${q.id}` : `llm-${q.id}-${k}`;
    ids.add(id);
    renamed.set(q.id, id);
    byText.set(norm(q.text), id);
    out.push({ ...q, id });
  }
  const merged = out.slice(0, MAX_QUESTIONS).map((q) => {
    if (q.source === 'rubric' || q.dependsOn === undefined) return q;
    const parent = renamed.get(q.dependsOn) ?? q.dependsOn;
    return { ...q, dependsOn: parent };
  });
  const kept = new Set(merged.map((q) => q.id));
  return merged.map((q) => {
    if (q.dependsOn === undefined || kept.has(q.dependsOn)) return q;
    const { dependsOn: _dropped, ...rest } = q;
    return rest;
  });
}
