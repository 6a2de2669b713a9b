import type { Style } from '../protocol/request.ts';
import { hsl, luminance, parseHex, shade, toHex } from './colour.ts';
import { type Box, layout } from './layout.ts';
import type { BackgroundSpec, ObjectWord } from './lexicon.ts';
import { parseScene } from './parse.ts';
import { between, fnv1a, mulberry32, type Rng } from './prng.ts';
import { drawShape, type Paint } from './shapes.ts';
import { type PaintMode, STYLE_LOOKS } from './styles.ts';

export interface SceneOptions {
  prompt: string;
  negativePrompt?: string;
  width: number;
  height: number;
  seed: number;
  style?: Style;
  transparent: boolean;
  /** Draw only the first this many shapes (a partial image while streaming); default all. */
  shapes?: number;
  /** A `pixel/sketch-tune` fine-tune: its learned palette, backdrop and proportions replace the lexicon's. */
  tune?: SketchTune;
}

/**
 * What the offline placeholder fine-tune learns from a dataset: the subject colours (largest share first),
 * the backdrop colour and the subject's width/height. `strength` (0–1) is how far the drawing moves from the
 * lexicon's colours and shapes towards them.
 */
export interface SketchTune {
  palette: string[];
  background: string;
  aspect: number;
  strength: number;
}

const mixHex = (from: string, to: string, amount: number): string => {
  const a = parseHex(from);
  const b = parseHex(to);
  return toHex([0, 1, 2].map((i) => a[i]! + (b[i]! - a[i]!) * amount) as [number, number, number]);
};

/** The lexicon's items moved towards the tune's palette and proportions. */
function tuned(items: ObjectWord[], tune: SketchTune): ObjectWord[] {
  const k = Math.min(1, Math.max(0, tune.strength));
  return items.map((item, index) => {
    const target = tune.palette[index % Math.max(1, tune.palette.length)] ?? item.fill;
    const fill = mixHex(item.fill, target, k);
    return {
      ...item,
      fill,
      accent: mixHex(item.accent, shade(target, 0.35), k),
      aspect: item.aspect + (tune.aspect - item.aspect) * k,
    };
  });
}

const f = (n: number) => n.toFixed(2);

/** Builds the SVG document for a sketch; pure and deterministic in its options. */
export function buildSceneSvg(options: SceneOptions): { svg: string; recognised: string[] } {
  const { width, height } = options;
  // The prompt is mixed into the seed so prompts with no known words still differ from each other.
  const rng = mulberry32((options.seed ^ fnv1a(options.prompt)) >>> 0);
  const look = STYLE_LOOKS[options.style ?? 'default'];
  const scene = parseScene(options.prompt, options.negativePrompt);
  const lexicon: ObjectWord[] =
    scene.items.length > 0 ? scene.items.map((i) => i.word) : [abstractShape(options.prompt)];
  const items = options.tune ? tuned(lexicon, options.tune) : lexicon;

  const defs: string[] = [];
  const body: string[] = [];
  const minSide = Math.min(width, height);

  if (!options.transparent) {
    const drawn = scene.background?.spec ?? look.background;
    const tune = options.tune;
    const k = tune ? Math.min(1, Math.max(0, tune.strength)) : 0;
    let bg = drawn;
    if (tune) {
      const { texture: _texture, ...plain } = drawn;
      // A learned backdrop replaces a drawn texture once the tune dominates.
      bg = {
        ...(k >= 0.5 ? plain : drawn),
        top: mixHex(drawn.top, tune.background, k),
        bottom: mixHex(drawn.bottom, tune.background, k),
      };
    }
    defs.push(linear('bg', bg.top, bg.bottom, true));
    body.push(`<rect width="${width}" height="${height}" fill="url(#bg)"/>`);
    if (bg.texture) body.push(texture(bg, width, height, rng));
  }

  const boxes = layout(
    items.map((i) => i.aspect),
    width,
    height,
    rng,
  );
  const gradients = new Map<string, string>();
  if (look.shadow && !options.transparent) {
    defs.push(
      '<radialGradient id="shadow"><stop offset="0" stop-color="#000" stop-opacity="0.28"/>' +
        '<stop offset="1" stop-color="#000" stop-opacity="0"/></radialGradient>',
    );
    for (const box of boxes.slice(0, options.shapes ?? boxes.length)) body.push(shadowUnder(box));
  }
  items.slice(0, options.shapes ?? items.length).forEach((item, index) => {
    const paint = paintFor(item, look.mode, minSide, gradients, defs);
    body.push(drawShape(item.shape, boxes[index]!, paint, rng));
  });

  if (look.vignette && !options.transparent) {
    defs.push(
      '<radialGradient id="vignette" r="0.75"><stop offset="0.55" stop-color="#000" stop-opacity="0"/>' +
        '<stop offset="1" stop-color="#000" stop-opacity="0.55"/></radialGradient>',
    );
    body.push(`<rect width="${width}" height="${height}" fill="url(#vignette)"/>`);
  }

  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<defs>${defs.join('')}</defs>${body.join('')}</svg>`;
  return { svg, recognised: scene.recognised };
}

/** How many shapes a prompt's sketch has (one abstract shape when no word is known). */
export function sceneShapeCount(prompt: string, negativePrompt?: string): number {
  return Math.max(1, parseScene(prompt, negativePrompt).items.length);
}

/** With nothing recognised, one soft shape whose colour and form come from the prompt text. */
function abstractShape(prompt: string): ObjectWord {
  const hash = fnv1a(prompt);
  const shapes = ['circle', 'rounded-rect', 'triangle', 'ellipse'] as const;
  const fill = hsl(hash % 360, 0.45, 0.55);
  return { shape: shapes[(hash >>> 9) % shapes.length]!, fill, accent: shade(fill, 0.35), aspect: 1 };
}

function linear(id: string, from: string, to: string, vertical: boolean): string {
  const dir = vertical ? 'x1="0" y1="0" x2="0" y2="1"' : 'x1="0" y1="0" x2="1" y2="1"';
  return `<linearGradient id="${id}" ${dir}><stop offset="0" stop-color="${from}"/><stop offset="1" stop-color="${to}"/></linearGradient>`;
}

function paintFor(
  item: ObjectWord,
  mode: PaintMode,
  minSide: number,
  gradients: Map<string, string>,
  defs: string[],
): Paint {
  const outline = shade(item.fill, luminance(item.fill) > 0.6 ? -0.55 : -0.45);
  const strokeWidth = Math.max(1, minSide / 220);
  if (mode === 'outline') return { body: 'none', dark: 'none', accent: 'none', stroke: outline, strokeWidth };
  let body = item.fill;
  if (mode === 'shaded' || mode === 'radial') {
    const key = `${mode}:${item.fill}`;
    let id = gradients.get(key);
    if (id === undefined) {
      id = `g${gradients.size}`;
      gradients.set(key, id);
      defs.push(
        mode === 'shaded'
          ? linear(id, shade(item.fill, 0.22), shade(item.fill, -0.18), false)
          : `<radialGradient id="${id}" cx="0.35" cy="0.3" r="0.8"><stop offset="0" stop-color="${shade(item.fill, 0.45)}"/>` +
              `<stop offset="1" stop-color="${shade(item.fill, -0.25)}"/></radialGradient>`,
      );
    }
    body = `url(#${id})`;
  }
  const stroke = mode === 'outlined' ? outline : 'none';
  return { body, dark: shade(item.fill, -0.3), accent: item.accent, stroke, strokeWidth };
}

function shadowUnder(box: Box): string {
  return `<ellipse cx="${f(box.x + box.w / 2)}" cy="${f(box.y + box.h * 0.97)}" rx="${f(box.w * 0.55)}" ry="${f(Math.max(2, box.h * 0.08))}" fill="url(#shadow)"/>`;
}

/** Wood planks or marble veins, placed by the seed. Bounded: a handful of lines at any size. */
function texture(bg: BackgroundSpec, width: number, height: number, rng: Rng): string {
  const parts: string[] = [];
  const minSide = Math.min(width, height);
  if (bg.texture === 'planks') {
    const planks = 5;
    for (let i = 1; i < planks; i++) {
      const y = (height * i) / planks + between(rng, -0.04, 0.04) * height;
      parts.push(
        `<path d="M0 ${f(y)} L${width} ${f(y)}" stroke="${shade(bg.bottom, -0.3)}" stroke-width="${f(Math.max(1, minSide / 250))}"/>`,
      );
      const grainY = y - (height / planks) * between(rng, 0.3, 0.7);
      parts.push(
        `<path d="M0 ${f(grainY)} Q${f(width / 2)} ${f(grainY + between(rng, -1, 1) * height * 0.03)} ${width} ${f(grainY)}" ` +
          `fill="none" stroke="${shade(bg.top, -0.12)}" stroke-width="${f(Math.max(1, minSide / 400))}" opacity="0.7"/>`,
      );
    }
  } else if (bg.texture === 'veins') {
    for (let i = 0; i < 4; i++) {
      const [x0, y0] = [between(rng, -0.1, 0.4) * width, between(rng, 0, 1) * height];
      const [x1, y1] = [between(rng, 0.6, 1.1) * width, between(rng, 0, 1) * height];
      const [qx, qy] = [between(rng, 0.2, 0.8) * width, between(rng, 0, 1) * height];
      parts.push(
        `<path d="M${f(x0)} ${f(y0)} Q${f(qx)} ${f(qy)} ${f(x1)} ${f(y1)}" fill="none" stroke="#9a9590" ` +
          `stroke-width="${f(Math.max(1, minSide / 300))}" opacity="0.35"/>`,
      );
    }
  }
  return parts.join('');
}
