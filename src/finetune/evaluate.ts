import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { generate } from '../generate/generate.ts';
import type { Catalog } from '../models/catalog.ts';
import type { ProviderName } from '../models/schema.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import { comparePair, type PairJudge } from '../quality/judges/pairwise.ts';
import type { Judge, Question } from '../quality/types.ts';
import { pairJudgeFor } from './pair-judge.ts';
import {
  type DatasetLook,
  type EvaluationReport,
  type Finetune,
  finetuneModelId,
  type PairwiseComparison,
  type PairwiseReport,
} from './types.ts';

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
  /** Compares each pair of images (default: the judge's own, see pairJudgeFor). */
  pairJudge?: PairJudge;
}

export interface EvaluateOptions {
  /** The fine-tune must beat the base's mean score by at least this much (0–1). */
  margin: number;
  /** And win at least this share of the pairwise comparisons, a tie counting half (default 0.5). */
  minWinRate?: number;
  width?: number;
  height?: number;
  signal?: AbortSignal;
}

/**
 * The fine-tune (`ft/<name>/v<N>`, its real inference route) and its base model draw every held-out prompt
 * with the same seed; the judge answers the same questions about both; each image scores the share of
 * answers that match (unsure counts as no match). Then the pairwise judge compares each pair (fine-tune's
 * image against base's, in both orders, the questions as criteria).
 *
 * The promotion rule: the fine-tune passes when its mean score beats the base's by at least `margin` AND it
 * wins at least `minWinRate` of the pairwise comparisons (a tie counts half; default 0.5, so it must not
 * lose more pairs than it wins). With no pairwise judge the margin alone decides, and the report says so.
 */
export async function evaluateFinetune(
  job: Finetune,
  look: DatasetLook,
  deps: EvaluateDeps,
  options: EvaluateOptions,
): Promise<EvaluationReport> {
  const model = finetuneModelId(job.name, job.version);
  const questions = evaluationQuestions(look);
  const criteria = questions.map((q) => q.text);
  const pairJudge = deps.pairJudge ?? pairJudgeFor(deps.judge);
  const minWinRate = options.minWinRate ?? 0.5;
  const signal = options.signal;
  const rows: EvaluationReport['prompts'] = [];
  const size = { width: options.width ?? 384, height: options.height ?? 384 };
  let costUsd = 0;
  let pairCostUsd = 0;
  for (const [index, prompt] of heldOutPrompts(job.category, job.classNoun).entries()) {
    const seed = 1000 + index;
    const draw = async (modelId: string) => {
      const outcome = await generate(
        { model: modelId, prompt, seed, n: 1, ...size },
        { catalog: deps.catalog, adapter: deps.adapter },
        { ...(signal && { signal }) },
      );
      const image = outcome.images[0]!;
      const judged = { bytes: image.bytes, mediaType: image.mediaType };
      const result = await deps.judge.judge({ image: judged, questions, ...(signal && { signal }) });
      costUsd += result.costUsd;
      const matched = result.answers.filter((a, i) => a.answer === questions[i]!.expected).length;
      return { image: judged, score: matched / questions.length };
    };
    const base = await draw(job.baseModel);
    const finetune = await draw(model);
    let pair: PairwiseComparison | undefined;
    if (pairJudge) {
      const compared = await comparePair(pairJudge, finetune.image, base.image, criteria, signal);
      costUsd += compared.costUsd;
      pairCostUsd += compared.costUsd;
      pair = {
        pFinetune: compared.pA,
        winner: compared.winner === 'a' ? 'finetune' : compared.winner === 'b' ? 'base' : 'tie',
        consistent: compared.consistent,
        positionBias: compared.positionBias,
      };
    }
    rows.push({
      prompt,
      seed,
      base: base.score,
      finetune: finetune.score,
      winner: finetune.score > base.score ? 'finetune' : finetune.score < base.score ? 'base' : 'tie',
      ...(pair && { pair }),
    });
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const baseScore = mean(rows.map((r) => r.base));
  const finetuneScore = mean(rows.map((r) => r.finetune));
  const count = <W extends string>(winners: W[], w: W) => winners.filter((x) => x === w).length;
  const pairs = rows.flatMap((r) => (r.pair ? [r.pair.winner] : []));
  const pairwise: PairwiseReport | undefined = pairJudge
    ? {
        judge: pairJudge.id,
        criteria,
        wins: { finetune: count(pairs, 'finetune'), base: count(pairs, 'base'), tie: count(pairs, 'tie') },
        winRate: (count(pairs, 'finetune') + count(pairs, 'tie') / 2) / Math.max(1, pairs.length),
        minWinRate,
        costUsd: pairCostUsd,
      }
    : undefined;
  const beatsMargin = finetuneScore - baseScore >= options.margin;
  const winsPairs = pairwise === undefined || pairwise.winRate >= minWinRate;
  const passed = beatsMargin && winsPairs;
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const scored = `${model} scored ${pct(finetuneScore)} against ${job.baseModel}'s ${pct(baseScore)}`;
  const paired = pairwise
    ? `won ${pct(pairwise.winRate)} of the pairwise comparisons (${pairwise.wins.finetune} won, ${pairwise.wins.tie} tied, ${pairwise.wins.base} lost; ${pct(minWinRate)} needed)`
    : 'no pairwise comparison (no judge here compares pairs): the margin alone decides';
  let verdict: string;
  if (passed) verdict = `${scored}: beats it by at least ${pct(options.margin)}; ${paired}`;
  else if (!beatsMargin)
    verdict = `${scored}: does not beat it by ${pct(options.margin)}, so it is not promoted; ${paired}`;
  else
    verdict = `${scored}: beats it by at least ${pct(options.margin)}, but ${paired}, so it is not promoted`;
  return {
    judge: deps.judge.id,
    baseModel: job.baseModel,
    model,
    margin: options.margin,
    prompts: rows,
    questions: criteria,
    baseScore,
    finetuneScore,
    wins: {
      finetune: rows.filter((r) => r.winner === 'finetune').length,
      base: rows.filter((r) => r.winner === 'base').length,
      tie: rows.filter((r) => r.winner === 'tie').length,
    },
    ...(pairwise && { pairwise }),
    costUsd,
    passed,
    verdict,
  };
}
