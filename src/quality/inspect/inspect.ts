import type { Answer, AnswerValue, Judge, JudgeRequest, JudgeResult, Question } from '../types.ts';
import { measurePixels, nameColour, type PixelStats, toHsl } from './measure.ts';

/**
 * `pixel/inspect`: the offline judge. It is not a vision model. It measures the picture (border
 * tone and uniformity, brightness, sharpness, aspect, how much of the frame differs from the
 * background and where, the subject's named colours) and answers only questions whose whole
 * meaning is such a measurement; everything else, and every borderline measurement, is `unsure`.
 */
export const INSPECT_ID = 'pixel/inspect';
export const INSPECT_NOTE =
  'pixel/inspect measures pixels (background, brightness, sharpness, aspect, subject size and colour); it does not recognise objects';

/** A measurable reading of one question: P(yes) from the stats, or why it cannot tell. */
type Reading = (stats: PixelStats) => { p: number; note: string } | { unsure: string };

const clampP = (p: number) => Math.min(0.98, Math.max(0.02, p));
const logistic = (z: number) => 1 / (1 + Math.exp(-z));
/** P that `value` is above `threshold`, soft over `scale`. */
const above = (value: number, threshold: number, scale: number) =>
  clampP(logistic((value - threshold) / scale));
const below = (value: number, threshold: number, scale: number) =>
  clampP(logistic((threshold - value) / scale));
/** Measurements this close to 0.5 are borderline: `unsure`. */
const BORDERLINE = 0.15;

const hex = (c: { r: number; g: number; b: number }) =>
  `#${[c.r, c.g, c.b].map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
const pct = (x: number) => `${Math.round(x * 100)}%`;

function borderFacts(s: PixelStats) {
  const { r, g, b } = s.border;
  const lum = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
  const chroma = (Math.max(r, g, b) - Math.min(r, g, b)) / 255;
  return { lum, chroma, ...toHsl(r, g, b), name: nameColour(r, g, b) };
}

const COLOUR_ALIASES: Record<string, string> = {
  gray: 'grey',
  'light gray': 'light grey',
  cream: 'beige',
  'off-white': 'white',
  'off white': 'white',
  tan: 'beige',
};
const NAMED = new Set([
  'white',
  'black',
  'grey',
  'light grey',
  'brown',
  'beige',
  'red',
  'pink',
  'orange',
  'yellow',
  'green',
  'teal',
  'blue',
  'purple',
]);

/** P(border has this tone); undefined for a tone this judge cannot measure. */
function toneP(toneRaw: string, s: PixelStats): number | undefined {
  const tone = COLOUR_ALIASES[toneRaw] ?? toneRaw;
  const f = borderFacts(s);
  switch (tone) {
    case 'white':
      // Product-shot white: lighter than #eeeeee; a light grey studio sweep is not white.
      return Math.min(above(f.lum, 0.93, 0.01), below(f.chroma, 0.08, 0.01));
    case 'light grey':
      return Math.min(above(f.lum, 0.55, 0.03), below(f.lum, 0.95, 0.01), below(f.chroma, 0.08, 0.01));
    case 'grey':
      return Math.min(above(f.lum, 0.2, 0.03), below(f.lum, 0.88, 0.015), below(f.chroma, 0.08, 0.01));
    case 'black':
      return below(f.lum, 0.12, 0.02);
    case 'dark':
      return below(f.lum, 0.3, 0.03);
    case 'light':
    case 'bright':
      return above(f.lum, 0.7, 0.03);
    case 'neutral':
      return below(f.chroma, 0.25, 0.03);
    case 'warm neutral':
    case 'warm': {
      const warmHue = f.h >= 15 && f.h <= 65 ? 0.95 : 0.05;
      return Math.min(warmHue, above(f.chroma, 0.04, 0.01), below(f.s, 0.65, 0.05), above(f.lum, 0.3, 0.03));
    }
    default:
      if (!NAMED.has(tone)) return undefined;
      return f.name === tone ? 0.9 : 0.1;
  }
}

const NP = "(?:the |a |an )?[a-z][a-z0-9' -]{0,48}?";
const IMAGE = '(?:image|picture|photo|photograph|frame)';

function background(modifier: string | undefined, tone: string | undefined): Reading {
  return (s) => {
    if (s.borderTransparent > 0.5)
      return {
        unsure: `the border is transparent (${pct(s.borderTransparent)}): no background tone to measure`,
      };
    const parts: number[] = [];
    const notes = [`border ${hex(s.border)}, spread ${s.borderSpread.toFixed(1)}`];
    if (tone) {
      const p = toneP(tone, s);
      if (p === undefined) return { unsure: `"${tone}" is not a tone pixel/inspect can measure` };
      parts.push(p);
    }
    if (modifier) parts.push(below(s.borderSpread, 12, 3));
    return { p: Math.min(...parts), note: notes.join('; ') };
  };
}

type Clause = (s: PixelStats) => { p: number; note: string };

const centred: Clause = (s) => {
  const box = s.subject.box;
  if (!box) return { p: 0.05, note: 'nothing stands out from the background' };
  const dx = Math.abs((box.left + box.right) / 2 - 0.5);
  const dy = Math.abs((box.top + box.bottom) / 2 - 0.5);
  return { p: below(Math.max(dx, dy), 0.12, 0.02), note: `subject centre off by ${pct(dx)} / ${pct(dy)}` };
};
const fillsMost: Clause = (s) => {
  const box = s.subject.box;
  if (!box) return { p: 0.05, note: 'nothing stands out from the background' };
  const area = (box.right - box.left) * (box.bottom - box.top);
  return { p: above(area, 0.4, 0.04), note: `subject box covers ${pct(area)} of the frame` };
};
const margins: Clause = (s) => {
  const box = s.subject.box;
  if (!box) return { p: 0.5, note: 'nothing stands out from the background' };
  const m = Math.min(box.left, box.top, 1 - box.right, 1 - box.bottom);
  return { p: above(m, 0.02, 0.005), note: `smallest margin ${pct(m)}` };
};

function clauses(parts: Clause[]): Reading {
  return (s) => {
    const results = parts.map((c) => c(s));
    return { p: Math.min(...results.map((r) => r.p)), note: results.map((r) => r.note).join('; ') };
  };
}

const CLAUSES: Array<[RegExp, Clause]> = [
  [/^fill(?:ing|s)? most of the frame$/, fillsMost],
  [/^(?:generous |clear |even |some )?(?:space|margins?) around (?:it|them)$/, margins],
  [/^(?:generous|clear|even) margins$/, margins],
  [/^fully (?:inside|within) the frame$/, margins],
];

function compositionReading(rest: string): Reading | undefined {
  const out: Clause[] = [centred];
  const tail = rest.trim();
  if (tail === '') return clauses(out);
  for (const piece of tail.replace(/^,?\s*(?:and|with)\s+/, '').split(/,?\s+(?:and|with)\s+/)) {
    const match = CLAUSES.find(([re]) => re.test(piece.trim()));
    if (!match) return undefined;
    out.push(match[1]);
  }
  return clauses(out);
}

function colourReading(colourRaw: string, share: number): Reading | undefined {
  const colour = COLOUR_ALIASES[colourRaw] ?? colourRaw;
  if (!NAMED.has(colour)) return undefined;
  return (s) => {
    if (s.subject.box === null) return { unsure: 'nothing stands out from the background' };
    const found = s.dominant.find((d) => d.name === colour)?.share ?? 0;
    return {
      p: above(found, share, 0.05),
      note: `subject colours ${s.dominant.map((d) => `${d.name} ${pct(d.share)}`).join(', ')}`,
    };
  };
}

type Form = [RegExp, (m: RegExpMatchArray) => Reading | undefined];

const blurReading =
  (wantsBlur: boolean): Reading =>
  (s) => {
    const p = below(s.sharpness, SHARPNESS_CUT, 0.4);
    return { p: wantsBlur ? p : 1 - p, note: `sharpness ratio ${s.sharpness.toFixed(2)}` };
  };

/** Whole-question forms this judge can answer, tried in order; anything else is `unsure`. */
const FORMS: Form[] = [
  [/^is the (?:background|backdrop) (plain|uniform|clean|solid|even)$/, (m) => background(m[1], undefined)],
  [
    /^is the (?:background|backdrop) (?:a |an )?(?:(plain|uniform|clean|solid|simple|even),? )?([a-z -]+?)(?: tone| colou?r| one| shade)?$/,
    (m) => (toneP(m[2]!, FLAT) === undefined ? undefined : background(m[1], m[2])),
  ],
  [
    new RegExp(
      `^is ${NP} (?:centred|in the cent(?:re|er)(?: of the frame)?|in the middle(?: of the frame)?)(.*)$`,
    ),
    (m) => compositionReading(m[1]!),
  ],
  [new RegExp(`^is the whole ${NP} visible(?: (?:inside|within|in) the frame)?$`), () => clauses([margins])],
  [new RegExp(`^is ${NP} fully (?:inside|within|in) the frame$`), () => clauses([margins])],
  [new RegExp(`^(?:does|is) ${NP} (?:fill|filling) most of the frame$`), () => clauses([fillsMost])],
  [
    new RegExp(`^(?:is|does) the ${IMAGE}(?: look)? (blurry|blurred|out of focus|sharp|in focus|crisp)$`),
    (m) => blurReading(m[1] === 'blurry' || m[1] === 'blurred' || m[1] === 'out of focus'),
  ],
  [
    new RegExp(`^is the ${IMAGE} (too dark|underexposed|too bright|overexposed|washed out)$`),
    (m) => {
      const dark = m[1] === 'too dark' || m[1] === 'underexposed';
      return (s) => ({
        p: dark ? below(s.brightness, 0.18, 0.03) : above(s.brightness, 0.93, 0.02),
        note: `mean brightness ${s.brightness.toFixed(2)}`,
      });
    },
  ],
  [
    new RegExp(`^is the ${IMAGE} (?:empty|blank)$`),
    () => (s) => ({
      p: below(s.subject.share, 0.01, 0.003),
      note: `${pct(s.subject.share)} of pixels stand out`,
    }),
  ],
  [
    new RegExp(`^is the ${IMAGE} (?:in )?(square|landscape|portrait)(?: format| orientation| shaped)?$`),
    (m) => (s) => {
      const ratio = s.width / s.height;
      const shape = Math.abs(ratio - 1) < 0.02 ? 'square' : ratio > 1 ? 'landscape' : 'portrait';
      return { p: shape === m[1] ? 0.98 : 0.02, note: `${s.width}×${s.height}` };
    },
  ],
  [
    /^is the (?:dominant|main|predominant) colou?r(?: of the [a-z ]+?)? ([a-z]+(?: [a-z]+)?)$/,
    (m) => colourReading(m[1]!, 0.4),
  ],
  [
    new RegExp(`^is ${NP} (?:mostly|mainly|predominantly) ([a-z]+(?: [a-z]+)?)$`),
    (m) => colourReading(m[1]!, 0.5),
  ],
];

export function readingFor(text: string): Reading | undefined {
  const q = text
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[?.!]+$/, '')
    .replace(/\bcentered\b/g, 'centred');
  for (const [re, make] of FORMS) {
    const m = q.match(re);
    if (m) return make(m);
  }
  return undefined;
}

/** Sharpness ratio below which an image reads as blurry (see PixelStats.sharpness). */
export const SHARPNESS_CUT = 1.6;

/** Stats only used to ask toneP whether a tone is measurable at all. */
const FLAT: PixelStats = {
  width: 1,
  height: 1,
  border: { r: 0, g: 0, b: 0 },
  borderSpread: 0,
  borderTransparent: 0,
  brightness: 0,
  sharpness: 1,
  subject: { share: 0, box: null },
  dominant: [],
};

/** True when pixel/inspect has a measurement for this question (it may still be borderline). */
export function canInspect(question: Pick<Question, 'text'>): boolean {
  return readingFor(question.text) !== undefined;
}

function toAnswer(question: Question, stats: PixelStats): Answer {
  const reading = readingFor(question.text);
  if (!reading)
    return {
      questionId: question.id,
      answer: 'unsure',
      pYes: null,
      path: 'none',
      judge: INSPECT_ID,
      note: 'not something pixels can tell',
    };
  const result = reading(stats);
  if ('unsure' in result)
    return {
      questionId: question.id,
      answer: 'unsure',
      pYes: null,
      path: 'none',
      judge: INSPECT_ID,
      note: result.unsure,
    };
  const answer: AnswerValue =
    Math.abs(result.p - 0.5) < BORDERLINE ? 'unsure' : result.p > 0.5 ? 'yes' : 'no';
  return {
    questionId: question.id,
    answer,
    pYes: answer === 'unsure' ? null : result.p,
    path: answer === 'unsure' ? 'none' : 'pixels',
    judge: INSPECT_ID,
    note: answer === 'unsure' ? `borderline: ${result.note}` : result.note,
  };
}

export function createInspectJudge(): Judge {
  return {
    id: INSPECT_ID,
    family: 'pixel',
    async judge(request: JudgeRequest): Promise<JudgeResult> {
      request.signal?.throwIfAborted();
      const stats = await measurePixels(request.image.bytes);
      return { answers: request.questions.map((q) => toAnswer(q, stats)), costUsd: 0, judges: [INSPECT_ID] };
    },
  };
}

/** Answers from stats already measured (the benchmark and the loop reuse one measurement). */
export function inspectWithStats(questions: readonly Question[], stats: PixelStats): Answer[] {
  return questions.map((q) => toAnswer(q, stats));
}
