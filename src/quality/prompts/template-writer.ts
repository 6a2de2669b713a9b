import type { PromptBrief, PromptWriter, WrittenPrompt } from './types.ts';

/**
 * The offline prompt writer: round 1 is the application's template rendered with the item; a
 * refinement round adds the fix hints of every question failed so far (oldest first, each once),
 * so a fix that worked in round 2 is not lost in round 3.
 */
export function createTemplateWriter(): PromptWriter {
  return {
    id: 'template',
    async write(brief: PromptBrief): Promise<WrittenPrompt> {
      const hints: string[] = [];
      for (const attempt of brief.history)
        for (const { question } of attempt.failed) {
          const hint = question.fixHint.trim();
          if (hint && !hints.includes(hint)) hints.push(hint);
        }
      const base = brief.basePrompt.trim();
      if (hints.length === 0)
        return { prompt: base, negativePrompt: brief.baseNegativePrompt, writer: 'template', costUsd: 0 };
      const sentence = (h: string) => (/[.!?]$/.test(h) ? h : `${h}.`);
      const joined = /[.!?]$/.test(base) ? base : `${base}.`;
      return {
        prompt: `${joined} ${hints.map(sentence).join(' ')}`,
        negativePrompt: brief.baseNegativePrompt,
        writer: 'template+fix-hints',
        costUsd: 0,
      };
    },
  };
}
