import type { RecordedRequest } from '../../../providers/testing/types.ts';
import { CAPTION_MARKER, PAIR_MARKER, QUESTIONS_MARKER } from '../messages.ts';

/**
 * The "model" behind the fake judge servers: what it believes about each question, and how it
 * misbehaves when a test asks it to.
 */
export type FakeBehaviour = 'answer' | 'refuse' | 'malformed' | 'partial' | { status: number };

export interface FakeBrain {
  /** P(yes) per question id (default 0.9). */
  pYes: (id: string, text: string) => number;
  /** P(the first shown image is better) for pairwise calls, given the two images (base64). */
  pFirst: (first: string, second: string) => number;
  /** The caption for a captioning call, given the image (base64); default a fixed sentence. */
  caption?: (image: string) => string;
}

export interface FakeJudgeServer {
  url: string;
  /** Base URL the provider package expects (with its version path). */
  baseURL: string;
  requests: RecordedRequest[];
  behaviour: FakeBehaviour;
  brain: FakeBrain;
  close(): Promise<void>;
}

export const defaultBrain = (): FakeBrain => ({ pYes: () => 0.9, pFirst: () => 0.5 });

export interface AskedQuestion {
  id: string;
  question: string;
}

/** Finds the question list (or pairwise criteria) in any text of a request body. */
export function findAsked(body: unknown): {
  questions?: AskedQuestion[];
  pair?: string[];
  caption?: true;
} {
  const texts: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') texts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(body);
  for (const t of texts) {
    const qi = t.indexOf(QUESTIONS_MARKER);
    if (qi >= 0) return { questions: JSON.parse(t.slice(qi + QUESTIONS_MARKER.length)) as AskedQuestion[] };
    const pi = t.indexOf(PAIR_MARKER);
    if (pi >= 0) return { pair: JSON.parse(t.slice(pi + PAIR_MARKER.length)) as string[] };
    if (t.includes(CAPTION_MARKER)) return { caption: true };
  }
  return {};
}

/** Whether the request's output schema is the prompted one (the model writes probabilities). */
export const wantsProbabilities = (body: unknown) => JSON.stringify(body).includes('probabilityYes');

/** The JSON text a well-behaved model would answer, honouring the behaviour. */
export function answerText(
  body: unknown,
  brain: FakeBrain,
  behaviour: FakeBehaviour,
  images: string[],
): { text: string; answers: Array<{ id: string; p: number }> } {
  if (behaviour === 'malformed') return { text: 'Sure! Here are my answers: yes, no, yes.', answers: [] };
  const asked = findAsked(body);
  if (asked.caption) {
    const caption = brain.caption?.(images[0] ?? '') ?? 'a product photo on a plain backdrop';
    return { text: JSON.stringify({ caption }), answers: [] };
  }
  if (asked.pair) {
    const p = brain.pFirst(images[0] ?? '', images[1] ?? '');
    return {
      text: JSON.stringify({ better: p > 0.5 ? 'first' : p < 0.5 ? 'second' : 'tie', probabilityFirst: p }),
      answers: [],
    };
  }
  let answers = (asked.questions ?? []).map((q) => ({ id: q.id, p: brain.pYes(q.id, q.question) }));
  if (behaviour === 'partial') answers = answers.slice(0, -1);
  const prompted = wantsProbabilities(body);
  const out = answers.map((a) =>
    prompted
      ? { id: a.id, answer: a.p >= 0.5 ? 'yes' : 'no', probabilityYes: a.p }
      : { id: a.id, answer: a.p >= 0.5 ? 'yes' : 'no' },
  );
  return { text: JSON.stringify({ answers: out }), answers };
}
