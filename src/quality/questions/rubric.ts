import type { RubricQuestion } from '../../apps/schema.ts';
import { renderAll, type Vars } from '../../apps/template.ts';
import { QUESTION_CATEGORIES, type Question, type QuestionCategory } from '../types.ts';

/**
 * Applications name rubric categories freely (lighting, safety, style…); the gate reports judge
 * agreement over a closed set, so other names map onto their nearest member.
 */
const CATEGORY_MAP: Record<string, QuestionCategory> = {
  lighting: 'attribute',
  style: 'attribute',
  colour: 'attribute',
  color: 'attribute',
  freshness: 'attribute',
  safety: 'forbidden',
  forbidden: 'forbidden',
  'forbidden-content': 'forbidden',
  defect: 'artifact',
  artifacts: 'artifact',
  layout: 'composition',
};

export function toCategory(name: string): QuestionCategory {
  if ((QUESTION_CATEGORIES as readonly string[]).includes(name)) return name as QuestionCategory;
  return CATEGORY_MAP[name] ?? 'attribute';
}

/** The application's rubric rendered with the item's variables: the questions every image of it answers. */
export function rubricQuestions(rubric: readonly RubricQuestion[], vars: Vars): Question[] {
  if (rubric.length === 0) return [];
  const { texts } = renderAll(
    rubric.map((r, i) => ({ field: `rubric[${i}].question`, template: r.question })),
    vars,
  );
  // A question inside an optional variable's section renders empty without the variable: left out.
  return rubric
    .map((r, i) => ({
      id: r.id,
      text: texts[i]!,
      expected: r.expected,
      category: toCategory(r.category),
      critical: r.critical,
      fixHint: r.fixHint,
      source: 'rubric' as const,
    }))
    .filter((q) => q.text.trim() !== '');
}
