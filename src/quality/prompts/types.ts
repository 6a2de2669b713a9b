import type { FewShot } from '../../apps/schema.ts';
import type { Answer, Question } from '../types.ts';

/** One earlier round, as the prompt writer sees it. */
export interface PromptAttempt {
  round: number;
  prompt: string;
  negativePrompt?: string;
  score: number | null;
  /** Questions whose answer did not match (or was unsure where that counts as a miss). */
  failed: Array<{ question: Question; answer: Answer }>;
}

export interface PromptBrief {
  app: string;
  appDescription: string;
  vars: Record<string, string>;
  /** The application's template rendered with the item (the round-1 prompt of the template writer). */
  basePrompt: string;
  baseNegativePrompt?: string;
  fewShots: readonly FewShot[];
  /** Earlier rounds, oldest first; empty on round 1. */
  history: readonly PromptAttempt[];
}

export interface WrittenPrompt {
  prompt: string;
  negativePrompt?: string;
  /** Which writer wrote it (`template`, `template+fix-hints`, `openai/gpt-4.1-mini`). */
  writer: string;
  costUsd: number;
}

export interface PromptWriter {
  readonly id: string;
  write(brief: PromptBrief, signal?: AbortSignal): Promise<WrittenPrompt>;
}
