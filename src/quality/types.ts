/**
 * The vocabulary of the quality gate: questions asked about an image, the answers judges give,
 * and the judge interface every judge (pixel measurements or a vision model) implements.
 */

/** The closed set of question categories; judge agreement is reported per category. */
export const QUESTION_CATEGORIES = [
  'subject',
  'attribute',
  'count',
  'background',
  'composition',
  'forbidden',
  'artifact',
  'text',
] as const;
export type QuestionCategory = (typeof QUESTION_CATEGORIES)[number];

export type YesNo = 'yes' | 'no';

/** Where a question came from: the application's rubric, a question-writing model, or a team edit. */
export type QuestionSource = 'rubric' | 'llm' | 'team';

/** One atomic yes/no check about an image. */
export interface Question {
  /** Unique within one item's question set: `[a-z0-9-]`. */
  id: string;
  text: string;
  expected: YesNo;
  category: QuestionCategory;
  /** A critical question that does not match fails the image whatever the score. */
  critical: boolean;
  /** Asked only when this parent question matched its expected answer (otherwise skipped). */
  dependsOn?: string;
  /** What the prompt writer should change when the answer does not match. */
  fixHint: string;
  source: QuestionSource;
}

export type AnswerValue = 'yes' | 'no' | 'unsure';

/**
 * How P(yes) was obtained: a native decision probability, token log-probabilities, a confidence
 * the model wrote down, a pixel measurement, the mean of several judges (each part keeps its own
 * path), or none (`unsure`, skipped).
 */
export type AnswerPath = 'native' | 'logprobs' | 'prompted' | 'pixels' | 'ensemble' | 'none';

export interface Answer {
  questionId: string;
  answer: AnswerValue;
  /** Probability that the true answer is yes, in [0, 1]; null when the judge did not answer. */
  pYes: number | null;
  path: AnswerPath;
  /** The judge that answered (`pixel/inspect`, `openai/gpt-4.1-mini`, `ensemble(...)`). */
  judge: string;
  /** Set when the question was not asked because its parent did not match. */
  skipped?: true;
  /** What was measured or why the judge could not tell. */
  note?: string;
  /** An ensemble's answer keeps each member's answer. */
  parts?: Answer[];
}

export interface JudgeImage {
  bytes: Uint8Array;
  mediaType: string;
}

export interface JudgeRequest {
  image: JudgeImage;
  questions: readonly Question[];
  signal?: AbortSignal;
}

export interface JudgeUsage {
  inputTokens?: number;
  outputTokens?: number;
}

export interface JudgeResult {
  /** One answer per question asked, in the same order. */
  answers: Answer[];
  costUsd: number;
  usage?: JudgeUsage;
  /** Judges asked (several for an ensemble or cascade), for the report. */
  judges: string[];
  /** In a cascade: how many questions the offline judge settled and the estimated paid spend saved. */
  cascade?: { answeredOffline: number; askedPaid: number; savedUsd: number };
}

/** Anything that answers questions about an image. */
export interface Judge {
  /** `pixel/inspect`, `openai/gpt-4.1-mini`, … */
  readonly id: string;
  /** The model family, so an ensemble can insist on two different ones. */
  readonly family: string;
  judge(request: JudgeRequest): Promise<JudgeResult>;
}

/** The answer a probability gives: above 0.5 yes, below no; within `unsureBand` of 0.5 unsure. */
export function answerFromP(pYes: number, unsureBand = 0): AnswerValue {
  if (Math.abs(pYes - 0.5) < unsureBand) return 'unsure';
  return pYes >= 0.5 ? 'yes' : 'no';
}
