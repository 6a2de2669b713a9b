import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { type LlmSpec, parseLlmSpec } from '../llm/models.ts';
import type { TokenPrice } from '../llm/price.ts';

export type JudgePath = 'native' | 'logprobs' | 'prompted';

export interface JudgeModelInfo {
  spec: LlmSpec;
  family: string;
  path: JudgePath;
  price?: TokenPrice;
}

const FileSchema = z.object({
  models: z.record(
    z.string(),
    z
      .object({
        family: z.string().min(1),
        path: z.enum(['native', 'logprobs', 'prompted']),
        price: z
          .object({ input: z.number().nonnegative(), output: z.number().nonnegative() })
          .strict()
          .optional(),
      })
      .strict(),
  ),
});

let table: z.infer<typeof FileSchema>['models'] | undefined;

function known() {
  table ??= FileSchema.parse(parse(readFileSync(new URL('./judges.yaml', import.meta.url), 'utf8'))).models;
  return table;
}

/** OpenAI models that reason before answering return no token logprobs. */
function isOpenAiReasoning(model: string): boolean {
  return /^(o\d|gpt-5|gpt-6)/.test(model);
}

/** What the gate knows about a judge model: listed in judges.yaml, else derived from its provider. */
export function judgeModelInfo(id: string, field = 'judge'): JudgeModelInfo {
  const spec = parseLlmSpec(id, field);
  const entry = known()[id];
  if (entry)
    return {
      spec,
      family: entry.family,
      path: entry.path,
      ...(entry.price
        ? { price: { inputPerMTok: entry.price.input, outputPerMTok: entry.price.output } }
        : {}),
    };
  const family = spec.provider === 'ollama' ? (spec.model.split(/[:/.-]/)[0] ?? spec.model) : spec.provider;
  const path: JudgePath =
    spec.provider === 'openai' && !isOpenAiReasoning(spec.model) ? 'logprobs' : 'prompted';
  return { spec, family, path };
}
