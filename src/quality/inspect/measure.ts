import sharp from 'sharp';
import { PixelError } from '../../protocol/errors.ts';

/** What can be measured from an image's pixels alone, with no model. */
export interface PixelStats {
  width: number;
  height: number;
  /** Mean colour of the outer ring of the frame (4% of each side), 0–255. */
  border: { r: number; g: number; b: number };
  /** RMS distance of border pixels from that mean, 0–255 (0 = perfectly uniform). */
  borderSpread: number;
  /** Share of border pixels that are (mostly) transparent. */
  borderTransparent: number;
  /** Mean relative luminance of the whole frame, 0–1. */
  brightness: number;
  /**
   * Gradient energy of the image over that of a copy blurred with sigma 2. A crisp picture loses
   * most of its edge energy to the blur (high ratio); an already blurry one loses little (near 1).
   */
  sharpness: number;
  /** Pixels that differ clearly from the border colour: the subject. */
  subject: {
    /** Share of the frame's pixels. */
    share: number;
    /** Bounding box in frame fractions, null when nothing stands out. */
    box: { left: number; top: number; right: number; bottom: number } | null;
  };
  /** Named colours of the subject pixels, largest share first (shares of the subject). */
  dominant: Array<{ name: string; share: number }>;
}

const SAMPLE_SIDE = 192;
const SHARPNESS_SIDE = 384;

export async function measurePixels(bytes: Uint8Array): Promise<PixelStats> {
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    meta = await sharp(bytes).metadata();
  } catch (error) {
    throw new PixelError({
      code: 'invalid_argument',
      field: 'image',
      reason: 'unreadable_image',
      message: `image: cannot be decoded (${error instanceof Error ? error.message : String(error)})`,
    });
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  const small = await sharp(bytes)
    .resize(SAMPLE_SIDE, SAMPLE_SIDE, { fit: 'inside' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const stats = colourStats(small.data, small.info.width, small.info.height);
  const sharpness = await measureSharpness(bytes);
  return { width, height, sharpness, ...stats };
}

function colourStats(data: Buffer, w: number, h: number): Omit<PixelStats, 'width' | 'height' | 'sharpness'> {
  const ring = Math.max(1, Math.round(Math.min(w, h) * 0.04));
  const isBorder = (x: number, y: number) => x < ring || y < ring || x >= w - ring || y >= h - ring;
  let r = 0;
  let g = 0;
  let b = 0;
  let count = 0;
  let transparent = 0;
  let ringPixels = 0;
  let lum = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      lum += (0.2126 * data[i]! + 0.7152 * data[i + 1]! + 0.0722 * data[i + 2]!) / 255;
      if (!isBorder(x, y)) continue;
      ringPixels++;
      if (data[i + 3]! < 128) {
        transparent++;
        continue;
      }
      r += data[i]!;
      g += data[i + 1]!;
      b += data[i + 2]!;
      count++;
    }
  }
  const border = count > 0 ? { r: r / count, g: g / count, b: b / count } : { r: 0, g: 0, b: 0 };
  let spreadSum = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!isBorder(x, y)) continue;
      const i = (y * w + x) * 4;
      if (data[i + 3]! < 128) continue;
      spreadSum += distanceSq(data[i]!, data[i + 1]!, data[i + 2]!, border);
    }
  }
  const borderSpread = count > 0 ? Math.sqrt(spreadSum / count) : 0;
  // A pixel belongs to the subject when it stands out from the border clearly more than the
  // border's own texture does.
  const cut = Math.max(40, 3 * borderSpread);
  const counts = new Map<string, number>();
  let subjectPixels = 0;
  let left = w;
  let top = h;
  let right = -1;
  let bottom = -1;
  const transparentBorder = transparent > ringPixels / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      const opaque = data[i + 3]! >= 128;
      const stands = transparentBorder
        ? opaque
        : opaque && Math.sqrt(distanceSq(data[i]!, data[i + 1]!, data[i + 2]!, border)) > cut;
      if (!stands) continue;
      subjectPixels++;
      left = Math.min(left, x);
      top = Math.min(top, y);
      right = Math.max(right, x);
      bottom = Math.max(bottom, y);
      const name = nameColour(data[i]!, data[i + 1]!, data[i + 2]!);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  const dominant = [...counts.entries()]
    .map(([name, n]) => ({ name, share: n / subjectPixels }))
    .sort((a, b2) => b2.share - a.share)
    .slice(0, 5);
  return {
    border,
    borderSpread,
    borderTransparent: ringPixels > 0 ? transparent / ringPixels : 0,
    brightness: lum / (w * h),
    subject: {
      share: subjectPixels / (w * h),
      box:
        subjectPixels === 0
          ? null
          : { left: left / w, top: top / h, right: (right + 1) / w, bottom: (bottom + 1) / h },
    },
    dominant,
  };
}

function distanceSq(r: number, g: number, b: number, m: { r: number; g: number; b: number }): number {
  return (r - m.r) ** 2 + (g - m.g) ** 2 + (b - m.b) ** 2;
}

async function measureSharpness(bytes: Uint8Array): Promise<number> {
  const base = sharp(bytes)
    .flatten({ background: '#808080' })
    .resize(SHARPNESS_SIDE, SHARPNESS_SIDE, { fit: 'inside' })
    .greyscale();
  const [plain, blurred] = await Promise.all([
    base.clone().raw().toBuffer({ resolveWithObject: true }),
    base.clone().blur(2).raw().toBuffer({ resolveWithObject: true }),
  ]);
  const e1 = gradientEnergy(plain.data, plain.info.width, plain.info.height);
  const e2 = gradientEnergy(blurred.data, blurred.info.width, blurred.info.height);
  if (e1 === 0) return 1;
  return e2 === 0 ? Number.POSITIVE_INFINITY : e1 / e2;
}

function gradientEnergy(data: Buffer, w: number, h: number): number {
  let sum = 0;
  for (let y = 0; y < h - 1; y++) {
    for (let x = 0; x < w - 1; x++) {
      const i = y * w + x;
      const dx = data[i + 1]! - data[i]!;
      const dy = data[i + w]! - data[i]!;
      sum += dx * dx + dy * dy;
    }
  }
  return sum / Math.max(1, (w - 1) * (h - 1));
}

/** HSL of an sRGB colour: h in degrees, s and l in [0, 1]. */
export function toHsl(r: number, g: number, b: number): { h: number; s: number; l: number } {
  const rn = r / 255;
  const gn = g / 255;
  const bn = b / 255;
  const max = Math.max(rn, gn, bn);
  const min = Math.min(rn, gn, bn);
  const l = (max + min) / 2;
  const d = max - min;
  if (d === 0) return { h: 0, s: 0, l };
  const s = d / (1 - Math.abs(2 * l - 1));
  let h: number;
  if (max === rn) h = ((gn - bn) / d) % 6;
  else if (max === gn) h = (bn - rn) / d + 2;
  else h = (rn - gn) / d + 4;
  h *= 60;
  if (h < 0) h += 360;
  return { h, s, l };
}

/** The plain colour name a shopper would use for a pixel. */
export function nameColour(r: number, g: number, b: number): string {
  const { h, s, l } = toHsl(r, g, b);
  const chroma = (Math.max(r, g, b) - Math.min(r, g, b)) / 255;
  if (l >= 0.92 && chroma < 0.1) return 'white';
  if (l < 0.12) return 'black';
  if (chroma < 0.08) return l >= 0.6 ? 'light grey' : 'grey';
  if (h >= 15 && h < 50 && l < 0.45) return 'brown';
  if (h >= 15 && h < 60 && s < 0.55 && l >= 0.6) return 'beige';
  if (h < 15 || h >= 345) return l > 0.7 ? 'pink' : 'red';
  if (h < 40) return 'orange';
  if (h < 70) return 'yellow';
  if (h < 170) return 'green';
  if (h < 200) return 'teal';
  if (h < 260) return 'blue';
  if (h < 300) return 'purple';
  return 'pink';
}
