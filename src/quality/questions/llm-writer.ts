import { generateText, type LanguageModel, Output } from 'ai';
import { z } from 'zod';
import { llmError, malformed } from '../llm/errors.ts';
import { QUESTION_CATEGORIES, type Question } from '../types.ts';
import { MAX_QUESTIONS, validateQuestions } from './validate.ts';

/** What the question writer knows about the item. */
export interface QuestionBrief {
  app: string;
  appDescription: string;
  /** The item's variables (`cut: ribeye steak`). */
  vars: Record<string, string>;
  /** The rendered image prompt, so the checks cover what was asked for. */
  prompt: string;
  /** The rubric's questions, which the writer must not repeat. */
  rubric: readonly Question[];
}

/** Structured-output schema: every field required (strict JSON schema modes demand it). */
const WrittenSchema = z.object({
  questions: z
    .array(
      z.object({
        id: z.string().describe('lowercase slug, unique'),
        text: z.string().describe('one atomic yes/no question about the image'),
        expected: z.enum(['yes', 'no']),
        category: z.enum(QUESTION_CATEGORIES),
        critical: z.boolean(),
        dependsOn: z
          .string()
          .nullable()
          .describe('id of the question this one only makes sense after, or null'),
        fixHint: z.string().describe('what to change in the image prompt when the answer is wrong'),
      }),
    )
    .max(MAX_QUESTIONS),
});

const SYSTEM = [
  'You write the checklist a vision model will use to accept or reject one generated product image.',
  'Write atomic yes/no questions: each asks exactly one thing that can be seen in the image.',
  'Give each the answer a correct image has (expected), a category, whether a wrong answer alone must reject the image (critical),',
  'the id of a parent question it depends on (ask "Is the apple red?" only after "Is there an apple?"), and a fix hint for the prompt writer.',
  'Balance polarity: include questions whose correct answer is "no" (forbidden objects, text, defects), so a judge that says yes to everything fails.',
  'Do not repeat the rubric questions you are given.',
].join(' ');

export interface LlmQuestionWriter {
  id: string;
  write(brief: QuestionBrief, signal?: AbortSignal): Promise<Question[]>;
}

/** A question writer backed by a language model through the AI SDK (structured output). */
export function createLlmQuestionWriter(model: LanguageModel, id: string): LlmQuestionWriter {
  return {
    id,
    async write(brief, signal) {
      const prompt = [
        `Application: ${brief.app}: ${brief.appDescription}`,
        `Item variables: ${JSON.stringify(brief.vars)}`,
        `Image prompt: ${brief.prompt}`,
        `Rubric questions already asked (do not repeat): ${JSON.stringify(brief.rubric.map((q) => q.text))}`,
        'Write up to 8 new questions specific to this item.',
      ].join('\n');
      let output: z.infer<typeof WrittenSchema>;
      try {
        const result = await generateText({
          model,
          system: SYSTEM,
          prompt,
          output: Output.object({ schema: WrittenSchema }),
          abortSignal: signal,
          maxRetries: 1,
        });
        output = result.output;
      } catch (error) {
        throw llmError(error, id, 'questionWriter');
      }
      const questions = output.questions.map((q) => ({
        id: slug(q.id),
        text: q.text,
        expected: q.expected,
        category: q.category,
        critical: q.critical,
        ...(q.dependsOn ? { dependsOn: slug(q.dependsOn) } : {}),
        fixHint: q.fixHint,
        source: 'llm' as const,
      }));
      try {
        return validateQuestions(questions, 'questionWriter.questions');
      } catch (error) {
        throw malformed(id, error instanceof Error ? error.message : String(error), 'questionWriter');
      }
    },
  };
}

function slug(id: string): string {
  return (
    id
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 64) || 'q'
  );
}
