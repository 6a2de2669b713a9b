import sharp from 'sharp';
import { renderSketch } from '../../sketch/render.ts';

/**
 * Real, decodable images for the fake provider servers, drawn by `pixel/sketch` (deterministic:
 * same prompt and seed, same bytes), or a flat canvas coloured by the seed where the sketch refuses.
 */

export interface FakeImageRequest {
  prompt: string;
  width: number;
  height: number;
  seed: number;
  format?: 'png' | 'jpeg' | 'webp';
  background?: 'opaque' | 'transparent';
}

export interface FakeImage {
  bytes: Uint8Array;
  mediaType: string;
  width: number;
  height: number;
}

const MEDIA = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' } as const;

export async function fakeImage(request: FakeImageRequest): Promise<FakeImage> {
  const options: Required<FakeImageRequest> = { format: 'png', background: 'opaque', ...request };
  try {
    const { bytes, mediaType, width, height } = await renderSketch(options);
    return { bytes, mediaType, width, height };
  } catch {
    // Outside the sketch's own limits (e.g. a side under 64 px): a plain canvas of the right size.
    return plainCanvas(options);
  }
}

async function plainCanvas(options: Required<FakeImageRequest>): Promise<FakeImage> {
  const seed = options.seed >>> 0;
  const transparent = options.background === 'transparent' && options.format !== 'jpeg';
  const background = {
    r: seed & 0xff,
    g: (seed >>> 8) & 0xff,
    b: (seed >>> 16) & 0xff,
    alpha: transparent ? 0 : 1,
  };
  const canvas = sharp({
    create: { width: options.width, height: options.height, channels: transparent ? 4 : 3, background },
  });
  const out =
    options.format === 'jpeg' ? canvas.jpeg() : options.format === 'webp' ? canvas.webp() : canvas.png();
  const bytes = new Uint8Array(await out.toBuffer());
  return { bytes, mediaType: MEDIA[options.format], width: options.width, height: options.height };
}
