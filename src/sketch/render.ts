import sharp from 'sharp';
import { encodeAs, MEDIA_TYPES } from '../postprocess/formats.ts';
import { invalidArgument } from '../protocol/errors.ts';
import {
  FORMATS,
  type ImageFormat,
  SEED_MAX,
  SIDE_MAX,
  SIDE_MIN,
  STYLES,
  type Style,
} from '../protocol/request.ts';
import { drawOverImage } from './over-image.ts';
import { buildSceneSvg, type SketchTune } from './scene.ts';

export interface SketchOptions {
  prompt: string;
  negativePrompt?: string;
  width: number;
  height: number;
  seed: number;
  style?: string;
  format: ImageFormat;
  background: 'transparent' | 'opaque';
  /** Draw only the first this many shapes (a partial image); default all. */
  shapes?: number;
  /** An edit: the shapes are drawn over this image (and only where the mask is transparent, if given). */
  over?: { image: Uint8Array; mask?: Uint8Array };
  /** Set by a `pixel/sketch-tune` fine-tune: draw in the palette and proportions it learned. */
  tune?: SketchTune;
}

export interface SketchImage {
  bytes: Uint8Array;
  mediaType: string;
  width: number;
  height: number;
  /** Lexicon words (objects, colours, background phrases) that shaped the picture, in prompt order. */
  recognised: string[];
}

export const SKETCH_NOTE = 'pixel/sketch is an offline placeholder renderer, not a diffusion model';

/** Written into every file's EXIF (PNG eXIf, JPEG/WebP EXIF) so the bytes themselves say what they are. */
const EXIF = { IFD0: { Software: 'pixel/sketch', ImageDescription: SKETCH_NOTE } };

/**
 * Draws a deterministic placeholder picture: shapes for the food, drink and colour words of the
 * prompt, backdrop from the background words or the style, layout jittered by the seed. Same
 * options → same bytes. No text is drawn (fonts differ between machines).
 */
export async function renderSketch(options: SketchOptions): Promise<SketchImage> {
  checkOptions(options);
  const transparent = options.background === 'transparent';
  const { svg, recognised } = buildSceneSvg({
    prompt: options.prompt,
    negativePrompt: options.negativePrompt,
    width: options.width,
    height: options.height,
    seed: options.seed,
    style: options.style as Style | undefined,
    // Over an input image the backdrop is that image: only the shapes are drawn.
    transparent: transparent || options.over !== undefined,
    ...(options.shapes !== undefined && { shapes: options.shapes }),
    ...(options.tune && { tune: options.tune }),
  });
  if (options.over) {
    const drawn = await drawOverImage({
      ...options.over,
      shapesSvg: svg,
      width: options.width,
      height: options.height,
      format: options.format,
      transparent,
      exif: EXIF,
    });
    return {
      bytes: new Uint8Array(drawn.data.buffer, drawn.data.byteOffset, drawn.data.byteLength),
      mediaType: MEDIA_TYPES[options.format],
      width: drawn.width,
      height: drawn.height,
      recognised,
    };
  }
  // density 72 makes librsvg render the SVG's width/height attributes 1:1 as pixels.
  let pipeline = sharp(Buffer.from(svg), { density: 72, limitInputPixels: SIDE_MAX * SIDE_MAX });
  // An opaque picture is encoded without an alpha channel; a transparent one always with it.
  pipeline = transparent ? pipeline.ensureAlpha() : pipeline.removeAlpha();
  const { data, info } = await encodeAs(pipeline.withExif(EXIF), options.format).toBuffer({
    resolveWithObject: true,
  });
  return {
    bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    mediaType: MEDIA_TYPES[options.format],
    width: info.width,
    height: info.height,
    recognised,
  };
}

function checkOptions(o: SketchOptions): void {
  if (typeof o.prompt !== 'string') throw invalidArgument('prompt', 'prompt must be a string');
  if (o.negativePrompt !== undefined && typeof o.negativePrompt !== 'string')
    throw invalidArgument('negativePrompt', 'negativePrompt must be a string');
  for (const field of ['width', 'height'] as const) {
    const value = o[field];
    if (!Number.isInteger(value) || value < SIDE_MIN || value > SIDE_MAX)
      throw invalidArgument(
        field,
        `${field} must be an integer between ${SIDE_MIN} and ${SIDE_MAX}, got ${value}`,
      );
  }
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > SEED_MAX)
    throw invalidArgument('seed', `seed must be an integer between 0 and ${SEED_MAX}, got ${o.seed}`);
  if (o.style !== undefined && !(STYLES as readonly string[]).includes(o.style))
    throw invalidArgument(
      'style',
      `style must be one of ${STYLES.join(', ')}, got ${JSON.stringify(o.style)}`,
    );
  if (!FORMATS.includes(o.format))
    throw invalidArgument(
      'format',
      `format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(o.format)}`,
    );
  if (o.background !== 'transparent' && o.background !== 'opaque')
    throw invalidArgument(
      'background',
      `background must be "transparent" or "opaque", got ${JSON.stringify(o.background)}`,
    );
  if (o.background === 'transparent' && o.format === 'jpeg')
    throw invalidArgument(
      'background',
      'background "transparent" cannot be encoded as jpeg; use png or webp',
    );
}
