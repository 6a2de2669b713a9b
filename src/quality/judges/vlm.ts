import {
  Experimental_DecisionRefusalError,
  experimental_decide,
  generateText,
  InvalidResponseDataError,
  type ModelMessage,
  Output,
} from 'ai';
import { z } from 'zod';
import { llmError, malformed, refusal } from '../llm/errors.ts';
import { decisionModel, type LlmConnection, languageModel } from '../llm/models.ts';
import { costOf } from '../llm/price.ts';
import type { Answer, Judge, JudgeRequest, JudgeResult, JudgeUsage, Question } from '../types.ts';
import { type JudgeModelInfo, type JudgePath, judgeModelInfo } from './catalog.ts';
import { answerProbabilities, type TokenLogprob } from './logprobs.ts';
import { JUDGE_SYSTEM, judgeMessages, pairMessages } from './messages.ts';
import { sniffingFetch } from './refusal-sniffer.ts';

const LogprobSchema = z.object({
  answers: z.array(z.object({ id: z.string(), answer: z.enum(['yes', 'no']) })),
});
const PromptedSchema = z.object({
  answers: z.array(
    z.object({
      id: z.string(),
      answer: z.enum(['yes', 'no', 'unsure']),
      probabilityYes: z.number().describe('your probability, 0 to 1, that the true answer is yes'),
    }),
  ),
});
const PairSchema = z.object({
  better: z.enum(['first', 'second', 'tie']),
  probabilityFirst: z.number().describe('your probability, 0 to 1, that the first image is the better one'),
});

export interface VlmJudgeOptions {
  /** `openai/gpt-4.1-mini`, `anthropic/claude-haiku-4-5`, `google/gemini-2.5-flash`, `ollama/llava`. */
  model: string;
  connection: LlmConnection;
  /** Overrides the path from judges.yaml (e.g. `prompted` for a model without logprobs). */
  path?: JudgePath;
  maxRetries?: number;
}

export interface VlmJudge extends Judge {
  readonly path: JudgePath;
  /** Rough cost of one call with n questions, for cascade savings when no paid call was made. */
  estimateCostUsd(questions: number): number;
  /** Which of two images better meets the criteria, asked in one order: P(first is better). */
  preferOnce(
    first: JudgeRequest['image'],
    second: JudgeRequest['image'],
    criteria: readonly string[],
    signal?: AbortSignal,
  ): Promise<{ pFirst: number; costUsd: number }>;
}

/** Typical token counts of a judge call: one image, a system message, ~40 tokens in and ~15 out per question. */
const IMAGE_TOKENS = 1100;
const SYSTEM_TOKENS = 150;

/**
 * A vision-model judge through the AI SDK: all questions in one call, P(yes) by the best path the
 * model offers (native decision probability, token logprobs, else the probability it writes),
 * recorded on every answer. A refusal, output that is not the schema, or answers missing for any
 * question are judge errors: never a pass.
 */
export function createVlmJudge(options: VlmJudgeOptions): VlmJudge {
  const info: JudgeModelInfo = judgeModelInfo(options.model);
  const path = options.path ?? info.path;
  const id = options.model;
  const provider = info.spec.provider;
  const maxRetries = options.maxRetries ?? 1;

  async function structured<T>(
    schema: z.ZodType<T>,
    messages: ModelMessage[],
    signal: AbortSignal | undefined,
    providerOptions?: Record<string, Record<string, number | boolean | string>>,
  ): Promise<{ output: T; usage: JudgeUsage; metadata: unknown }> {
    const sniff = sniffingFetch(provider, options.connection.fetch);
    const model = languageModel(info.spec, { ...options.connection, fetch: sniff.fetch });
    try {
      const result = await generateText({
        model,
        system: JUDGE_SYSTEM,
        messages,
        output: Output.object({ schema }),
        abortSignal: signal,
        maxRetries,
        ...(providerOptions ? { providerOptions } : {}),
      });
      if (sniff.seen.refusal) throw refusal(id, sniff.seen.refusal);
      if (result.finishReason === 'content-filter') throw refusal(id, 'finish reason content-filter');
      return {
        output: result.output,
        usage: { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens },
        metadata: result.providerMetadata,
      };
    } catch (error) {
      if (sniff.seen.refusal) throw refusal(id, sniff.seen.refusal);
      throw llmError(error, id);
    }
  }

  function byId<T extends { id: string }>(questions: readonly Question[], answers: readonly T[]): T[] {
    const map = new Map<string, T>();
    for (const a of answers) {
      if (map.has(a.id)) throw malformed(id, `question "${a.id}" answered twice`);
      map.set(a.id, a);
    }
    const missing = questions.filter((q) => !map.has(q.id)).map((q) => q.id);
    if (missing.length > 0) throw malformed(id, `partial answer: no answer for ${missing.join(', ')}`);
    const extra = answers.filter((a) => !questions.some((q) => q.id === a.id)).map((a) => a.id);
    if (extra.length > 0) throw malformed(id, `answers for questions not asked: ${extra.join(', ')}`);
    return questions.map((q) => map.get(q.id)!);
  }

  const answer = (q: Question, pYes: number, via: Answer['path']): Answer => ({
    questionId: q.id,
    answer: pYes >= 0.5 ? 'yes' : 'no',
    pYes,
    path: via,
    judge: id,
  });

  async function viaLogprobs(request: JudgeRequest): Promise<JudgeResult> {
    const { output, usage, metadata } = await structured(
      LogprobSchema,
      judgeMessages(request.image, request.questions),
      request.signal,
      { openai: { logprobs: 5 } },
    );
    const ordered = byId(request.questions, output.answers);
    const tokens = (metadata as { openai?: { logprobs?: TokenLogprob[] } } | undefined)?.openai?.logprobs;
    if (!Array.isArray(tokens) || tokens.length === 0)
      throw malformed(id, 'no token logprobs in the response');
    const probabilities = answerProbabilities(tokens);
    if (probabilities.length !== output.answers.length)
      throw malformed(id, `found ${probabilities.length} answer tokens for ${output.answers.length} answers`);
    // Logprobs follow the order the model wrote the answers in.
    const pById = new Map(output.answers.map((a, i) => [a.id, probabilities[i]]));
    const answers = ordered.map((a, i) => {
      const p = pById.get(a.id);
      if (p === null || p === undefined) throw malformed(id, `no yes/no alternatives for "${a.id}"`);
      return answer(request.questions[i]!, p, 'logprobs');
    });
    return { answers, costUsd: costOf(info.price, usage), usage, judges: [id] };
  }

  async function viaPrompt(request: JudgeRequest): Promise<JudgeResult> {
    const { output, usage } = await structured(
      PromptedSchema,
      judgeMessages(
        request.image,
        request.questions,
        'For each, give your answer and your probability that the true answer is yes; say unsure when the image does not show it.',
      ),
      request.signal,
    );
    const ordered = byId(request.questions, output.answers);
    const answers = ordered.map((a, i): Answer => {
      const q = request.questions[i]!;
      const p = a.probabilityYes;
      if (!Number.isFinite(p) || p < 0 || p > 1)
        throw malformed(id, `probabilityYes of "${a.id}" is ${p}, not within 0–1`);
      if (a.answer === 'unsure')
        return { questionId: q.id, answer: 'unsure', pYes: null, path: 'none', judge: id };
      return answer(q, p, 'prompted');
    });
    return { answers, costUsd: costOf(info.price, usage), usage, judges: [id] };
  }

  async function viaDecision(request: JudgeRequest): Promise<JudgeResult> {
    const sniff = sniffingFetch(provider, options.connection.fetch);
    const model = decisionModel(info.spec, { ...options.connection, fetch: sniff.fetch });
    if (!model) throw malformed(id, `${provider} has no native decision model`);
    const questions = Object.fromEntries(
      request.questions.map((q) => [q.id, { type: 'boolean' as const, instructions: q.text }]),
    );
    try {
      const result = await experimental_decide({
        model,
        state: [
          { type: 'text', text: `${JUDGE_SYSTEM} Each question asks about the image that follows.` },
          {
            type: 'file',
            mediaType: request.image.mediaType,
            data: Buffer.from(request.image.bytes).toString('base64'),
          },
        ],
        questions,
        abortSignal: request.signal,
        maxRetries,
      });
      const usage = { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens };
      const answers = request.questions.map((q) => {
        const a = (result.answers as Record<string, { probability?: number }>)[q.id];
        if (a?.probability === undefined) throw malformed(id, `partial answer: no answer for ${q.id}`);
        return answer(q, a.probability, 'native');
      });
      return { answers, costUsd: costOf(info.price, usage), usage, judges: [id] };
    } catch (error) {
      if (Experimental_DecisionRefusalError.isInstance(error))
        throw refusal(
          id,
          `refused questions ${(error as { questionIds?: string[] }).questionIds?.join(', ')}`,
        );
      if (InvalidResponseDataError.isInstance(error)) throw malformed(id, error.message);
      throw llmError(error, id);
    }
  }

  return {
    id,
    family: info.family,
    path,
    estimateCostUsd(n) {
      return costOf(info.price, {
        inputTokens: IMAGE_TOKENS + SYSTEM_TOKENS + 40 * n,
        outputTokens: 15 * n + 10,
      });
    },
    async judge(request) {
      if (request.questions.length === 0) return { answers: [], costUsd: 0, judges: [id] };
      if (path === 'native') return viaDecision(request);
      if (path === 'logprobs') return viaLogprobs(request);
      return viaPrompt(request);
    },
    async preferOnce(first, second, criteria, signal) {
      const { output, usage } = await structured(PairSchema, pairMessages(first, second, criteria), signal);
      const p = output.probabilityFirst;
      if (!Number.isFinite(p) || p < 0 || p > 1)
        throw malformed(id, `probabilityFirst is ${p}, not within 0–1`);
      return { pFirst: p, costUsd: costOf(info.price, usage) };
    },
  };
}
