import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { PixelError } from '../protocol/errors.ts';
import { differenceHash, hammingDistance, thumbnailDistance } from './hash.ts';

/** One file offered for a training dataset. */
export interface DatasetFile {
  /** The file's name (or the catalogue image id), used in every error about it. */
  file: string;
  bytes: Uint8Array;
  caption?: string;
}

export interface CheckedImage {
  file: string;
  bytes: Uint8Array;
  mediaType: string;
  width: number;
  height: number;
  sha256: string;
  /** Perceptual fingerprint (hex): 64-bit difference hash, then a 16×16 grey thumbnail. */
  hash: string;
  caption?: string;
}

export interface DatasetRules {
  minImages: number;
  maxImages: number;
  /** The shorter side must be at least this many pixels. */
  minSide: number;
  /** Difference hashes this close or closer (and thumbnails within `nearDuplicateTone`) are the same photo. */
  nearDuplicateBits: number;
  /** Mean grey difference of 16×16 thumbnails (0–255) at or under which two images look the same. */
  nearDuplicateTone: number;
  maxCaptionLength: number;
}

export const DEFAULT_RULES: DatasetRules = {
  minImages: 3,
  maxImages: 30,
  minSide: 256,
  nearDuplicateBits: 10,
  nearDuplicateTone: 6,
  maxCaptionLength: 500,
};

const FORMATS: Record<string, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

const bad = (field: string, message: string, reason = 'invalid_dataset') =>
  new PixelError({ code: 'invalid_argument', field, reason, message });

/**
 * Checks a dataset's files: their count, that each is a PNG, JPEG or WebP sharp can decode, its size,
 * its caption, and that no two are the same image (same bytes, or near-duplicates by difference hash).
 * Throws one PixelError naming the first file at fault and why.
 */
export async function validateDataset(
  files: readonly DatasetFile[],
  rules: DatasetRules = DEFAULT_RULES,
): Promise<CheckedImage[]> {
  if (files.length < rules.minImages || files.length > rules.maxImages) {
    throw bad(
      'images',
      `a training dataset needs ${rules.minImages}–${rules.maxImages} images, got ${files.length}`,
      'dataset_size',
    );
  }
  const checked: CheckedImage[] = [];
  for (const file of files) {
    const image = await checkOne(file, rules);
    const same = checked.find((c) => c.sha256 === image.sha256);
    if (same)
      throw bad(
        `images.${file.file}`,
        `${file.file} is a duplicate of ${same.file} (same bytes)`,
        'duplicate',
      );
    const near = checked.find(
      (c) =>
        hammingDistance(c.hash, image.hash) <= rules.nearDuplicateBits &&
        thumbnailDistance(c.hash, image.hash) <= rules.nearDuplicateTone,
    );
    if (near) {
      const bits = hammingDistance(near.hash, image.hash);
      const tone = thumbnailDistance(near.hash, image.hash).toFixed(1);
      throw bad(
        `images.${file.file}`,
        `${file.file} is a near-duplicate of ${near.file} (difference hashes ${bits} of 64 bits apart, thumbnails ${tone} grey levels apart on average)`,
        'near_duplicate',
      );
    }
    checked.push(image);
  }
  return checked;
}

async function checkOne(file: DatasetFile, rules: DatasetRules): Promise<CheckedImage> {
  const field = `images.${file.file}`;
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    meta = await sharp(file.bytes).metadata();
  } catch (error) {
    throw bad(
      field,
      `${file.file} is not an image sharp can read (${error instanceof Error ? error.message : String(error)})`,
      'not_an_image',
    );
  }
  const mediaType = meta.format ? FORMATS[meta.format] : undefined;
  if (!mediaType) {
    throw bad(
      field,
      `${file.file} is ${meta.format ?? 'of unknown format'}; use PNG, JPEG or WebP`,
      'format',
    );
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (Math.min(width, height) < rules.minSide) {
    throw bad(
      field,
      `${file.file} is ${width}×${height}; each side must be at least ${rules.minSide} pixels`,
      'too_small',
    );
  }
  const caption = file.caption?.trim();
  if (caption !== undefined && caption.length > rules.maxCaptionLength) {
    throw bad(`${field}.caption`, `the caption of ${file.file} is over ${rules.maxCaptionLength} characters`);
  }
  return {
    file: file.file,
    bytes: file.bytes,
    mediaType,
    width,
    height,
    sha256: createHash('sha256').update(file.bytes).digest('hex'),
    hash: await differenceHash(file.bytes),
    ...(caption && { caption }),
  };
}
