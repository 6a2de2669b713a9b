import type { RubricQuestion } from '../../apps/schema.ts';
import type { Question } from '../types.ts';
import type { LlmQuestionWriter } from './llm-writer.ts';
import { mergeQuestions } from './merge.ts';
import { rubricQuestions } from './rubric.ts';
import type { QuestionStore } from './store.ts';

export interface QuestionRequest {
  app: string;
  appVersion: number;
  appDescription: string;
  vars: Record<string, string>;
  prompt: string;
  rubric: readonly RubricQuestion[];
}

export interface QuestionSet {
  questions: Question[];
  /** `rubric`, `rubric+<writer id>`, or `team`. */
  writer: string;
  cached: boolean;
}

/**
 * The questions for one item: the cached set when there is one (a team edit included), else the
 * rubric rendered with the item, merged with what the LLM writer adds, then cached.
 */
export async function questionsFor(
  request: QuestionRequest,
  deps: { store?: QuestionStore; writer?: LlmQuestionWriter; signal?: AbortSignal },
): Promise<QuestionSet> {
  const cached = await deps.store?.get(request.app, request.appVersion, request.vars);
  if (cached) return { questions: cached.questions, writer: cached.writer, cached: true };
  const rubric = rubricQuestions(request.rubric, request.vars);
  let questions = rubric;
  let writer = 'rubric';
  if (deps.writer) {
    const written = await deps.writer.write(
      {
        app: request.app,
        appDescription: request.appDescription,
        vars: request.vars,
        prompt: request.prompt,
        rubric,
      },
      deps.signal,
    );
    questions = mergeQuestions(rubric, written);
    writer = `rubric+${deps.writer.id}`;
  }
  if (!deps.store) return { questions, writer, cached: false };
  const stored = await deps.store.putIfAbsent(
    request.app,
    request.appVersion,
    request.vars,
    questions,
    writer,
  );
  return { questions: stored.questions, writer: stored.writer, cached: false };
}
