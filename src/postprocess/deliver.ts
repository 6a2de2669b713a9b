import sharp, { type Metadata, type Sharp } from 'sharp';
import { PixelError } from '../protocol/errors.ts';
import type { ImageFormat } from '../protocol/request.ts';
import type { DeliveryPlan } from '../translate/types.ts';
import { encodeAs, formatOfMediaType, MEDIA_TYPES } from './formats.ts';

export interface DeliverableImage {
  bytes: Uint8Array;
  mediaType: string;
  width: number;
  height: number;
}

export interface DeliveredImage extends DeliverableImage {
  /** What was done, in order, for the report (empty when the provider's bytes are handed over as they are). */
  operations: string[];
}

const FLATTEN_COLOUR = '#ffffff';

/** Header facts already decoded from exactly these bytes (by the provider adapter's check). */
export interface KnownHeader {
  /** sharp's format name (png, jpeg, webp…). */
  format: string;
  width: number;
  height: number;
  orientation?: number;
  hasAlpha: boolean;
}

/**
 * Turns a provider's image into what the caller asked for: exact pixels (scale to cover, then
 * centre crop), the requested format, and an opaque background when the plan says to flatten.
 * When nothing needs doing the input bytes are returned untouched, without a re-encode.
 */
export async function deliver(
  image: DeliverableImage,
  plan: DeliveryPlan,
  /** The header as already decoded from `image.bytes`: saves decoding it again when nothing needs doing. */
  known?: KnownHeader,
): Promise<DeliveredImage> {
  if (plan.background === 'transparent' && plan.format === 'jpeg') {
    throw new PixelError({
      code: 'invalid_argument',
      field: 'background',
      reason: 'unsupported_parameter',
      message: 'a transparent background cannot be delivered as jpeg; ask for png or webp',
    });
  }
  // The header is the truth about the bytes; the declared media type and size may be wrong.
  let meta: Pick<Metadata, 'format' | 'width' | 'height' | 'orientation' | 'hasAlpha'>;
  try {
    meta = known
      ? { ...known, format: known.format as Metadata['format'] }
      : await sharp(image.bytes).metadata();
  } catch (cause) {
    throw new PixelError({
      code: 'internal',
      reason: 'malformed_response',
      message: `the image to deliver could not be decoded (declared ${image.mediaType})`,
      cause,
    });
  }
  const source: ImageFormat | undefined = formatOfMediaType(`image/${meta.format}`);
  if (source === undefined || meta.width === undefined || meta.height === undefined) {
    throw new PixelError({
      code: 'internal',
      reason: 'malformed_response',
      message: `cannot deliver a ${meta.format ?? 'unknown'} image; expected png, jpeg or webp`,
    });
  }
  // EXIF orientations 5–8 swap the sides once the image is turned upright.
  const oriented = (meta.orientation ?? 1) > 1;
  const turned = (meta.orientation ?? 1) >= 5;
  const width = turned ? meta.height : meta.width;
  const height = turned ? meta.width : meta.height;

  // Steps are collected first and the sharp pipeline is built only when there is one: most images are
  // handed over as they are, and a Sharp instance per request is garbage for nothing.
  const operations: string[] = [];
  const steps: Array<(p: Sharp) => Sharp> = [];
  if (oriented) {
    steps.push((p) => p.autoOrient());
    operations.push(`auto-orient (EXIF orientation ${meta.orientation})`);
  }
  const target =
    plan.fit === 'exact' && plan.width !== undefined && plan.height !== undefined
      ? { width: plan.width, height: plan.height }
      : undefined;
  if (target && (target.width !== width || target.height !== height)) {
    steps.push((p) =>
      p.resize({ width: target.width, height: target.height, fit: 'cover', position: 'centre' }),
    );
    operations.push(`resize ${width}x${height}→${target.width}x${target.height} (cover, centre crop)`);
  }
  // JPEG has no alpha: an image with transparency going to JPEG is flattened too, never onto black.
  if (meta.hasAlpha && (plan.flatten || plan.format === 'jpeg')) {
    steps.push((p) => p.flatten({ background: FLATTEN_COLOUR }));
    operations.push(`flatten onto ${FLATTEN_COLOUR}`);
  }
  if (source !== plan.format) operations.push(`convert ${source}→${plan.format}`);

  if (operations.length === 0) return { ...image, mediaType: MEDIA_TYPES[source], width, height, operations };

  const pipeline = steps.reduce((p, step) => step(p), sharp(image.bytes));
  const { data, info } = await encodeAs(pipeline, plan.format).toBuffer({ resolveWithObject: true });
  return {
    bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    mediaType: MEDIA_TYPES[plan.format],
    width: info.width,
    height: info.height,
    operations,
  };
}
