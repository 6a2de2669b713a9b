import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { generate } from '../generate/generate.ts';
import type { Catalog } from '../models/catalog.ts';
import type { ProviderName } from '../models/schema.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import type { Judge, Question } from '../quality/types.ts';
import { type DatasetLook, type EvaluationReport, type Finetune, finetuneModelId } from './types.ts';

const PromptsSchema = z
  .object({
    default: z.array(z.string().min(1)).min(1),
    categories: z.record(z.string(), z.array(z.string().min(1))).default({}),
  })
  .strict();

let prompts: z.infer<typeof PromptsSchema> | undefined;

/** The held-out prompts for a category (the defaults, then the category's own), with the class noun filled in. */
export function heldOutPrompts(category: string, classNoun: string): string[] {
  prompts ??= PromptsSchema.parse(
    parse(readFileSync(new URL('./eval-prompts.yaml', import.meta.url), 'utf8')),
  );
  return [...prompts.default, ...(prompts.categories[category] ?? [])].map((p) =>
    p.replaceAll('{noun}', classNoun),
  );
}

/**
 * What the evaluation asks of every image: that the subject has the dataset's dominant colour and the
 * backdrop the dataset's backdrop colour (questions pixel/inspect measures).
 */
export function evaluationQuestions(weights: DatasetLook): Question[] {
  const questions: Question[] = [];
  if (weights.subjectColour) {
    questions.push({
      id: 'subject-colour',
      text: `Is the subject mostly ${weights.subjectColour}?`,
      expected: 'yes',
      category: 'attribute',
      critical: false,
      fixHint: `the product should look ${weights.subjectColour}, as in the dataset`,
      source: 'team',
    });
  }
  questions.push({
    id: 'background-colour',
    text: `Is the background ${weights.backgroundColour}?`,
    expected: 'yes',
    category: 'background',
    critical: false,
    fixHint: `the backdrop should be ${weights.backgroundColour}, as in the dataset`,
    source: 'team',
  });
  return questions;
}

export interface EvaluateDeps {
  catalog: Catalog;
  adapter: (provider: ProviderName) => ProviderAdapter | undefined;
  judge: Judge;
}

export interface EvaluateOptions {
  /** The fine-tune must beat the base's mean score by at least this much (0–1). */
  margin: number;
  width?: number;
  height?: number;
  signal?: AbortSignal;
}

/**
 * The fine-tune (`ft/<name>/v<N>`, its real inference route) and its base model draw every held-out prompt
 * with the same seed; the judge answers the same questions about both; each image scores the share of
 * answers that match (unsure counts as no match). Passed when the fine-tune's mean beats the base's by the
 * margin. Pairwise: per prompt, which matched more.
 */
export async function evaluateFinetune(
  job: Finetune,
  look: DatasetLook,
  deps: EvaluateDeps,
  options: EvaluateOptions,
): Promise<EvaluationReport> {
  const model = finetuneModelId(job.name, job.version);
  const questions = evaluationQuestions(look);
  const rows: EvaluationReport['prompts'] = [];
  const size = { width: options.width ?? 384, height: options.height ?? 384 };
  for (const [index, prompt] of heldOutPrompts(job.category, job.classNoun).entries()) {
    const seed = 1000 + index;
    const score = async (modelId: string) => {
      const outcome = await generate(
        { model: modelId, prompt, seed, n: 1, ...size },
        { catalog: deps.catalog, adapter: deps.adapter },
        { ...(options.signal && { signal: options.signal }) },
      );
      const image = outcome.images[0]!;
      const result = await deps.judge.judge({
        image: { bytes: image.bytes, mediaType: image.mediaType },
        questions,
        ...(options.signal && { signal: options.signal }),
      });
      const matched = result.answers.filter((a, i) => a.answer === questions[i]!.expected).length;
      return matched / questions.length;
    };
    const base = await score(job.baseModel);
    const finetune = await score(model);
    rows.push({
      prompt,
      seed,
      base,
      finetune,
      winner: finetune > base ? 'finetune' : finetune < base ? 'base' : 'tie',
    });
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const baseScore = mean(rows.map((r) => r.base));
  const finetuneScore = mean(rows.map((r) => r.finetune));
  const passed = finetuneScore - baseScore >= options.margin;
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return {
    judge: deps.judge.id,
    baseModel: job.baseModel,
    model,
    margin: options.margin,
    prompts: rows,
    questions: questions.map((q) => q.text),
    baseScore,
    finetuneScore,
    wins: {
      finetune: rows.filter((r) => r.winner === 'finetune').length,
      base: rows.filter((r) => r.winner === 'base').length,
      tie: rows.filter((r) => r.winner === 'tie').length,
    },
    passed,
    verdict: passed
      ? `${model} scored ${pct(finetuneScore)} against ${job.baseModel}'s ${pct(baseScore)}: beats it by at least ${pct(options.margin)}`
      : `${model} scored ${pct(finetuneScore)} against ${job.baseModel}'s ${pct(baseScore)}: does not beat it by ${pct(options.margin)}, so it is not promoted`,
  };
}
