import sharp from 'sharp';
import { nameColour } from '../quality/inspect/measure.ts';
import type { SketchTune } from '../sketch/scene.ts';

const SIDE = 64;
/** RGB distance from the border colour above which a pixel belongs to the subject. */
const SUBJECT_DISTANCE = 60;

export interface ImageLook {
  /** Mean colour of the outer ring, hex. */
  background: string;
  /** Subject colours by name: mean hex and share of the subject's pixels, largest first. */
  colours: Array<{ name: string; hex: string; share: number }>;
  /** Width / height of the subject's bounding box (1 when nothing stands out). */
  aspect: number;
}

const hex = (rgb: number[]) =>
  `#${rgb
    .map((c) =>
      Math.max(0, Math.min(255, Math.round(c)))
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;

/** The backdrop, the subject's named colours and its proportions, measured from the pixels. */
export async function measureLook(bytes: Uint8Array): Promise<ImageLook> {
  const { data, info } = await sharp(bytes)
    .flatten({ background: '#ffffff' })
    .resize(SIDE, SIDE, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const w = info.width;
  const h = info.height;
  const ring = Math.max(1, Math.round(SIDE * 0.04));
  const border = [0, 0, 0];
  let ringCount = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (x >= ring && y >= ring && x < w - ring && y < h - ring) continue;
      const i = (y * w + x) * 3;
      for (let c = 0; c < 3; c++) border[c]! += data[i + c]!;
      ringCount++;
    }
  }
  for (let c = 0; c < 3; c++) border[c]! /= ringCount;
  const buckets = new Map<string, { sum: number[]; count: number }>();
  let subject = 0;
  let [left, top, right, bottom] = [w, h, -1, -1];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const px = [data[i]!, data[i + 1]!, data[i + 2]!];
      const distance = Math.hypot(px[0]! - border[0]!, px[1]! - border[1]!, px[2]! - border[2]!);
      if (distance < SUBJECT_DISTANCE) continue;
      subject++;
      [left, top, right, bottom] = [
        Math.min(left, x),
        Math.min(top, y),
        Math.max(right, x),
        Math.max(bottom, y),
      ];
      const name = nameColour(px[0]!, px[1]!, px[2]!);
      const bucket = buckets.get(name) ?? { sum: [0, 0, 0], count: 0 };
      for (let c = 0; c < 3; c++) bucket.sum[c]! += px[c]!;
      bucket.count++;
      buckets.set(name, bucket);
    }
  }
  const colours = [...buckets.entries()]
    .map(([name, b]) => ({
      name,
      hex: hex(b.sum.map((s) => s / b.count)),
      share: b.count / Math.max(1, subject),
    }))
    .sort((a, b) => b.share - a.share || (a.name < b.name ? -1 : 1));
  const aspect = right >= left ? (right - left + 1) / (bottom - top + 1) : 1;
  return { background: hex(border), colours, aspect };
}

export interface LearnedLook {
  tune: SketchTune;
  /** The dataset's dominant subject colour name and backdrop colour name (for evaluation questions). */
  subjectColour: string | undefined;
  backgroundColour: string;
}

/**
 * The placeholder "training" of `pixel/sketch-tune`: averages what the images look like (subject palette
 * by share, backdrop, median proportions). `strength` is steps / 1000, at most 1: fewer steps, a weaker
 * pull from the lexicon's look. Deterministic: the same images and steps give the same tune.
 */
export function learnTune(looks: readonly ImageLook[], steps: number): LearnedLook {
  const totals = new Map<string, { share: number; rgb: number[] }>();
  for (const look of looks) {
    for (const c of look.colours) {
      const t = totals.get(c.name) ?? { share: 0, rgb: [0, 0, 0] };
      const rgb = [1, 3, 5].map((o) => Number.parseInt(c.hex.slice(o, o + 2), 16));
      t.share += c.share;
      for (let i = 0; i < 3; i++) t.rgb[i]! += rgb[i]! * c.share;
      totals.set(c.name, t);
    }
  }
  const palette = [...totals.entries()]
    .sort((a, b) => b[1].share - a[1].share || (a[0] < b[0] ? -1 : 1))
    .slice(0, 3);
  const bg = [0, 0, 0];
  for (const look of looks) {
    for (let i = 0; i < 3; i++)
      bg[i]! += Number.parseInt(look.background.slice(1 + 2 * i, 3 + 2 * i), 16) / looks.length;
  }
  const aspects = looks.map((l) => l.aspect).sort((a, b) => a - b);
  const aspect = aspects[Math.floor(aspects.length / 2)] ?? 1;
  return {
    tune: {
      palette: palette.map(([, t]) => hex(t.rgb.map((v) => v / t.share))),
      background: hex(bg),
      aspect: Math.round(aspect * 1000) / 1000,
      strength: Math.min(1, Math.max(0, steps / 1000)),
    },
    subjectColour: palette[0]?.[0],
    backgroundColour: nameColour(bg[0]!, bg[1]!, bg[2]!),
  };
}
