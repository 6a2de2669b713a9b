import {
  BACKGROUND_PHRASES,
  type BackgroundSpec,
  COLOUR_WORDS,
  NUMBER_WORDS,
  OBJECT_WORDS,
  type ObjectWord,
} from './lexicon.ts';

/** One thing to draw: an object word (possibly tinted by a colour word) or a bare colour swatch. */
export interface SceneItem {
  /** The lexicon key ("apple", "cereal box") or the colour word for a swatch. */
  term: string;
  word: ObjectWord;
  /** The colour word that tinted it, if any. */
  tint?: string;
  /** The container it was named in ("jar" in "a jar of honey"), whose shape it takes. */
  container?: string;
}

export interface ParsedScene {
  items: SceneItem[];
  background?: { term: string; spec: BackgroundSpec };
  /** Recognised words actually used, in prompt order, without repeats. */
  recognised: string[];
}

/** Bounded so a 32,000-character prompt cannot make a picture with thousands of shapes. */
export const MAX_ITEMS = 12;
const MAX_COUNT = 6;
const MAX_PHRASE = 3;

type Match =
  | { kind: 'object'; term: string; length: number }
  | { kind: 'background'; term: string; spec: BackgroundSpec; length: number };

export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[a-z]+|\d+/g) ?? [];
}

/** Plural → singular candidates, most likely first ("tomatoes" → "tomatoe", "tomato"). */
function singulars(word: string): string[] {
  const out = [word];
  if (word.endsWith('ies')) out.push(`${word.slice(0, -3)}y`);
  if (word.endsWith('es')) out.push(word.slice(0, -2));
  if (word.endsWith('s')) out.push(word.slice(0, -1));
  return out;
}

function matchAt(tokens: string[], i: number): Match | undefined {
  const colour = COLOUR_WORDS[tokens[i] ?? ''];
  const next = tokens[i + 1];
  if (colour !== undefined && (next === 'background' || next === 'backdrop')) {
    return {
      kind: 'background',
      term: `${tokens[i]} ${next}`,
      spec: { top: colour, bottom: colour },
      length: 2,
    };
  }
  for (let length = Math.min(MAX_PHRASE, tokens.length - i); length >= 1; length--) {
    const head = tokens.slice(i, i + length - 1);
    const last = tokens[i + length - 1]!;
    for (const candidate of singulars(last)) {
      const phrase = [...head, candidate].join(' ');
      const spec = BACKGROUND_PHRASES[phrase];
      if (spec) return { kind: 'background', term: phrase, spec, length };
      if (Object.hasOwn(OBJECT_WORDS, phrase)) return { kind: 'object', term: phrase, length };
    }
  }
  return undefined;
}

/** Words that end a modifier's reach: in "orange and apple" the orange is a fruit, not a tint. */
const BREAKS = new Set([
  'and',
  'or',
  'with',
  'on',
  'in',
  'of',
  'a',
  'an',
  'the',
  'next',
  'beside',
  'by',
  'to',
]);

/** True when an object starts at `from`, or right after one non-breaking word ("red ripe apple"). */
function objectFollows(tokens: string[], from: number): boolean {
  if (matchAt(tokens, from)?.kind === 'object') return true;
  const between = tokens[from];
  return between !== undefined && !BREAKS.has(between) && matchAt(tokens, from + 1)?.kind === 'object';
}

/** "A <container> of <contents>" draws the contents in the container's shape. */
const CONTAINERS = new Set(['bottle', 'can', 'jar', 'box', 'bowl', 'cup', 'mug', 'bag', 'plate']);

interface RawTerm {
  kind: 'object' | 'swatch' | 'background';
  term: string;
  tint?: string;
  container?: string;
  count: number;
  spec?: BackgroundSpec;
}

/** Walks the prompt once, left to right, longest phrase first. */
function scan(text: string): RawTerm[] {
  const tokens = tokenize(text);
  const out: RawTerm[] = [];
  let tint: { word: string; at: number } | undefined;
  let count: { value: number; at: number } | undefined;
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i]!;
    // A colour word right before an object tints it ("orange carrot"); otherwise "orange" is the fruit.
    const colourWord = Object.hasOwn(COLOUR_WORDS, token) ? token : undefined;
    const match = matchAt(tokens, i);
    if (colourWord && match?.kind !== 'background' && objectFollows(tokens, i + 1)) {
      tint = { word: colourWord, at: i };
      i += 1;
      continue;
    }
    if (match?.kind === 'background') {
      out.push({ kind: 'background', term: match.term, spec: match.spec, count: 1 });
      i += match.length;
      continue;
    }
    if (match?.kind === 'object') {
      const tinted = tint && i - tint.at <= 2 ? tint.word : undefined;
      const repeat = count && i - count.at <= 2 ? count.value : 1;
      const after = i + match.length;
      const contents = tokens[after] === 'of' ? matchAt(tokens, after + 1) : undefined;
      if (CONTAINERS.has(match.term) && contents?.kind === 'object') {
        out.push({ kind: 'object', term: contents.term, container: match.term, tint: tinted, count: repeat });
        i = after + 1 + contents.length;
      } else {
        out.push({ kind: 'object', term: match.term, tint: tinted, count: repeat });
        i = after;
      }
      tint = undefined;
      count = undefined;
      continue;
    }
    if (colourWord) {
      out.push({ kind: 'swatch', term: colourWord, count: 1 });
    } else {
      const n = NUMBER_WORDS[token] ?? (/^\d+$/.test(token) ? Number(token) : undefined);
      if (n !== undefined && n >= 1) count = { value: Math.min(MAX_COUNT, n), at: i };
    }
    i += 1;
  }
  return out;
}

/**
 * Turns a prompt into the items to draw. Words named in the negative prompt are left out: an
 * object whose term (or any word of it) is negated, a negated colour (swatch or tint), a negated
 * background phrase.
 */
export function parseScene(prompt: string, negativePrompt = ''): ParsedScene {
  const negated = new Set<string>();
  for (const raw of scan(negativePrompt)) {
    negated.add(raw.term);
    if (raw.tint) negated.add(raw.tint);
  }
  for (const token of tokenize(negativePrompt)) if (Object.hasOwn(COLOUR_WORDS, token)) negated.add(token);
  const isNegated = (term: string) => negated.has(term) || term.split(' ').some((w) => negated.has(w));

  const items: SceneItem[] = [];
  const recognised: string[] = [];
  const note = (term: string) => {
    if (!recognised.includes(term)) recognised.push(term);
  };
  let background: ParsedScene['background'];

  for (const raw of scan(prompt)) {
    if (raw.kind === 'background') {
      if (background === undefined && !isNegated(raw.term)) {
        background = { term: raw.term, spec: raw.spec! };
        note(raw.term);
      }
      continue;
    }
    if (isNegated(raw.term)) continue;
    const tint = raw.tint && !negated.has(raw.tint) ? raw.tint : undefined;
    const container = raw.container && !isNegated(raw.container) ? raw.container : undefined;
    let word: ObjectWord =
      raw.kind === 'swatch'
        ? { shape: 'ellipse', fill: COLOUR_WORDS[raw.term]!, accent: '#ffffff', aspect: 1 }
        : OBJECT_WORDS[raw.term]!;
    if (container) {
      const outer = OBJECT_WORDS[container]!;
      word = { ...word, shape: outer.shape, aspect: outer.aspect };
    }
    if (tint) word = { ...word, fill: COLOUR_WORDS[tint]! };
    for (let k = 0; k < raw.count && items.length < MAX_ITEMS; k++)
      items.push({ term: raw.term, word, tint, container });
    if (tint) note(tint);
    if (container) note(container);
    note(raw.term);
  }
  return { items, background, recognised };
}
