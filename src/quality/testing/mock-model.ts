import { MockLanguageModelV4 } from 'ai/test';

/** A language model that answers each call with the next text (the last one repeats); prompts are recorded. */
export function scriptedModel(texts: string[], finish: 'stop' | 'content-filter' = 'stop') {
  const prompts: unknown[] = [];
  let call = 0;
  const model = new MockLanguageModelV4({
    doGenerate: async (options) => {
      prompts.push(options.prompt);
      const text = texts[Math.min(call, texts.length - 1)]!;
      call++;
      return {
        content: [{ type: 'text', text }],
        finishReason: { unified: finish, raw: undefined },
        usage: {
          inputTokens: { total: 100, noCache: 100, cacheRead: undefined, cacheWrite: undefined },
          outputTokens: { total: 50, text: 50, reasoning: undefined },
        },
        warnings: [],
      };
    },
  });
  return { model, prompts, calls: () => call };
}
