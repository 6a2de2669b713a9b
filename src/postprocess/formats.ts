import type { Sharp } from 'sharp';
import { FORMATS, type ImageFormat } from '../protocol/request.ts';

export const MEDIA_TYPES: Readonly<Record<ImageFormat, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

/** `image/png` → `png`; undefined for anything Pixel does not deliver. */
export function formatOfMediaType(mediaType: string): ImageFormat | undefined {
  const bare = mediaType.split(';')[0]!.trim().toLowerCase();
  if (bare === 'image/jpg') return 'jpeg';
  return FORMATS.find((format) => MEDIA_TYPES[format] === bare);
}

/**
 * Every encode in Pixel goes through here so outputs are consistent and reproducible: fixed
 * settings, no timestamps or other per-run metadata (sharp writes none unless asked).
 */
export function encodeAs(pipeline: Sharp, format: ImageFormat): Sharp {
  switch (format) {
    case 'png':
      return pipeline.png({ compressionLevel: 6, adaptiveFiltering: false });
    case 'jpeg':
      return pipeline.jpeg({ quality: 90, mozjpeg: false, chromaSubsampling: '4:2:0' });
    case 'webp':
      return pipeline.webp({ quality: 90, effort: 4 });
  }
}
