import { generateText, type LanguageModel, Output } from 'ai';
import { z } from 'zod';
import { llmError, malformed } from '../llm/errors.ts';
import { costOf, type TokenPrice } from '../llm/price.ts';
import type { PromptBrief, PromptWriter, WrittenPrompt } from './types.ts';

const WrittenSchema = z.object({
  prompt: z.string().describe('the complete image prompt'),
  negativePrompt: z.string().nullable().describe('things the image must not show, or null'),
});

const SYSTEM = [
  'You write prompts for image-generation models for one application of a grocery platform.',
  "Follow the application's template and house style, learn from the example prompts,",
  'and keep every requirement of the template. When earlier attempts are shown with their scores and the checks they failed,',
  'write a new prompt that fixes those failures while keeping what the better-scoring attempts got right.',
  'Name the subject first; be concrete about what must not appear. Answer with the prompt only (no commentary).',
].join(' ');

/** Renders the brief as the writer model's user message (OPT2I style: history with scores and failures). */
export function renderBrief(brief: PromptBrief): string {
  const lines = [
    `Application: ${brief.app}: ${brief.appDescription}`,
    `Item: ${JSON.stringify(brief.vars)}`,
    `Template prompt for this item: ${brief.basePrompt}`,
  ];
  if (brief.baseNegativePrompt) lines.push(`Template negative prompt: ${brief.baseNegativePrompt}`);
  if (brief.fewShots.length > 0) {
    lines.push('Example prompts that worked well:');
    for (const shot of brief.fewShots)
      lines.push(
        `- for ${JSON.stringify(shot.vars)}: ${shot.prompt}${shot.note ? ` (why: ${shot.note})` : ''}`,
      );
  }
  if (brief.history.length > 0) {
    lines.push('Earlier attempts for this item, oldest first:');
    for (const a of brief.history) {
      lines.push(`Attempt ${a.round} (score ${a.score === null ? 'n/a' : a.score.toFixed(2)}): ${a.prompt}`);
      for (const f of a.failed)
        lines.push(
          `  failed: "${f.question.text}" expected ${f.question.expected}, judged ${f.answer.answer}${f.question.critical ? ' (critical)' : ''}; fix: ${f.question.fixHint}`,
        );
    }
    lines.push('Write an improved prompt.');
  } else {
    lines.push('Write the prompt.');
  }
  return lines.join('\n');
}

/** A prompt writer backed by a language model through the AI SDK (structured output). */
export function createLlmPromptWriter(model: LanguageModel, id: string, price?: TokenPrice): PromptWriter {
  return {
    id,
    async write(brief, signal): Promise<WrittenPrompt> {
      let out: z.infer<typeof WrittenSchema>;
      let usage: { inputTokens?: number | undefined; outputTokens?: number | undefined };
      try {
        const result = await generateText({
          model,
          system: SYSTEM,
          prompt: renderBrief(brief),
          output: Output.object({ schema: WrittenSchema }),
          abortSignal: signal,
          maxRetries: 1,
        });
        out = result.output;
        usage = result.usage;
      } catch (error) {
        throw llmError(error, id, 'promptWriter');
      }
      const prompt = out.prompt.trim();
      if (prompt.length === 0) throw malformed(id, 'the prompt is empty', 'promptWriter');
      const negative = out.negativePrompt?.trim() || brief.baseNegativePrompt;
      return {
        prompt,
        ...(negative ? { negativePrompt: negative } : {}),
        writer: id,
        costUsd: costOf(price, usage),
      };
    },
  };
}
