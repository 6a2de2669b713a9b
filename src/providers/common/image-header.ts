import { imageSize } from 'image-size';

/** What an image's header says, in sharp's terms (format names png, jpeg, webp, gif). */
export interface ImageHeader {
  format: 'png' | 'jpeg' | 'webp' | 'gif';
  width: number;
  height: number;
  /** EXIF orientation (JPEG), when present. */
  orientation?: number;
  hasAlpha: boolean;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  if (bytes.byteLength < at + prefix.length) return false;
  return prefix.every((b, i) => bytes[at + i] === b);
}

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const RIFF = ascii('RIFF');
const WEBP = ascii('WEBP');
const GIF8 = ascii('GIF8');

function sniff(bytes: Uint8Array): ImageHeader['format'] | undefined {
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, RIFF) && startsWith(bytes, WEBP, 8)) return 'webp';
  if (startsWith(bytes, GIF8)) return 'gif';
  return undefined;
}

const IMAGE_SIZE_TYPE = { png: 'png', jpeg: 'jpg', webp: 'webp', gif: 'gif' } as const;

/**
 * Reads an image's header synchronously, without libvips: the format from its magic bytes, dimensions
 * and orientation from `image-size`, and whether it has an alpha channel from the PNG or WebP header.
 * Returns undefined when the bytes are not a PNG, JPEG or WebP whose header reads cleanly, or are a GIF
 * (whose transparency lives in per-frame extension blocks): the caller then asks sharp, as before.
 *
 * Why not sharp's metadata(): it hops to libuv's thread pool and back for a few header bytes, which was
 * ~0.3 ms of every provider call at concurrency 1 (bench/service.bench.ts).
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  const format = sniff(bytes);
  if (format === undefined || format === 'gif') return undefined;
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(bytes);
  } catch {
    return undefined;
  }
  if (size.type !== IMAGE_SIZE_TYPE[format] || !(size.width > 0) || !(size.height > 0)) return undefined;
  const hasAlpha = format === 'png' ? pngHasAlpha(bytes) : format === 'webp' ? webpHasAlpha(bytes) : false;
  if (hasAlpha === undefined) return undefined;
  return {
    format,
    width: size.width,
    height: size.height,
    ...(size.orientation !== undefined && { orientation: size.orientation }),
    hasAlpha,
  };
}

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * Colour types 4 (grey + alpha) and 6 (RGBA) carry alpha; any other type has it when a tRNS chunk
 * comes before the image data. Undefined when the chunk list is cut short.
 */
function pngHasAlpha(bytes: Uint8Array): boolean | undefined {
  if (bytes.byteLength < 33) return undefined;
  const colourType = bytes[25]!;
  if (colourType === 4 || colourType === 6) return true;
  const data = view(bytes);
  let at = 8;
  while (at + 8 <= bytes.byteLength) {
    const length = data.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    if (type === 'tRNS') return true;
    if (type === 'IDAT' || type === 'IEND') return false;
    at += 12 + length;
  }
  return undefined;
}

/** VP8X: the alpha flag; VP8L: the alpha_is_used bit; plain VP8 (lossy): never. */
function webpHasAlpha(bytes: Uint8Array): boolean | undefined {
  if (bytes.byteLength < 30) return undefined;
  const chunk = String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!);
  if (chunk === 'VP8X') return (bytes[20]! & 0x10) !== 0;
  // VP8L header: signature 0x2f, then 14 bits width-1, 14 bits height-1, 1 bit alpha_is_used.
  if (chunk === 'VP8L') return bytes[20] === 0x2f ? (bytes[24]! & 0x10) !== 0 : undefined;
  if (chunk === 'VP8 ') return false;
  return undefined;
}
