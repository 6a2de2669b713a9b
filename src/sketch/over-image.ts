import sharp from 'sharp';
import { encodeAs } from '../postprocess/formats.ts';
import { invalidArgument } from '../protocol/errors.ts';
import { SIDE_MAX } from '../protocol/request.ts';

export interface OverImageOptions {
  /** The caller's image: covers the canvas (scaled and centre-cropped to width × height). */
  image: Uint8Array;
  /** Optional: where its alpha is 0 the shapes are drawn, elsewhere the image is kept (OpenAI's mask rule). */
  mask?: Uint8Array;
  /** The shapes layer: an SVG of exactly width × height with a transparent background. */
  shapesSvg: string;
  width: number;
  height: number;
  format: 'png' | 'jpeg' | 'webp';
  transparent: boolean;
  exif: Record<string, Record<string, string>>;
}

const LIMIT = { limitInputPixels: SIDE_MAX * SIDE_MAX };

/** Decodes an input image to raw RGBA at the canvas size; a file sharp cannot read is the caller's error. */
async function rgba(bytes: Uint8Array, field: string, width: number, height: number, fit: 'cover' | 'fill') {
  try {
    return await sharp(bytes, LIMIT).rotate().resize(width, height, { fit }).ensureAlpha().raw().toBuffer();
  } catch (error) {
    throw invalidArgument(
      field,
      `${field} is not an image this server can read (${(error as Error).message})`,
    );
  }
}

/**
 * Draws the sketch's shapes over the caller's image: what pixel/sketch does for an edit, offline.
 * With a mask, a shape pixel shows only as far as the mask is transparent there.
 */
export async function drawOverImage(
  o: OverImageOptions,
): Promise<{ data: Buffer; width: number; height: number }> {
  const [base, shapes, mask] = await Promise.all([
    rgba(o.image, 'image', o.width, o.height, 'cover'),
    sharp(Buffer.from(o.shapesSvg), { density: 72, ...LIMIT })
      .ensureAlpha()
      .raw()
      .toBuffer(),
    o.mask ? rgba(o.mask, 'mask', o.width, o.height, 'fill') : Promise.resolve(undefined),
  ]);
  if (mask) {
    for (let i = 3; i < shapes.length; i += 4) shapes[i] = Math.round((shapes[i]! * (255 - mask[i]!)) / 255);
  }
  const raw = { width: o.width, height: o.height, channels: 4 as const };
  // Two steps: sharp composites after its other operations, and the flatten must see the drawn result.
  const drawn = await sharp(base, { raw })
    .composite([{ input: shapes, raw }])
    .raw()
    .toBuffer();
  let pipeline = sharp(drawn, { raw });
  pipeline = o.transparent ? pipeline.ensureAlpha() : pipeline.flatten({ background: '#ffffff' });
  const { data, info } = await encodeAs(pipeline.withExif(o.exif), o.format).toBuffer({
    resolveWithObject: true,
  });
  return { data, width: info.width, height: info.height };
}
