import sharp from 'sharp';

export interface FakeImageRequest {
  prompt: string;
  width: number;
  height: number;
  seed?: number;
  format: 'png' | 'jpeg' | 'webp';
  background?: 'opaque' | 'transparent';
}

const cache = new Map<string, Promise<Uint8Array>>();

/**
 * A real, decodable image of the requested size for the fakes. Same request → same bytes (the colour
 * comes from prompt and seed), cached because fakes answer the same request many times.
 * TODO(lead): switch to `renderSketch` from src/sketch/render.ts once it lands, here only.
 */
export function fakeImage(request: FakeImageRequest): Promise<Uint8Array> {
  const key = JSON.stringify(request);
  let hit = cache.get(key);
  if (!hit) {
    hit = render(request);
    cache.set(key, hit);
    if (cache.size > 256) cache.delete(cache.keys().next().value!);
  }
  return hit;
}

async function render(request: FakeImageRequest): Promise<Uint8Array> {
  const hash = fnv1a(`${request.prompt}|${request.seed ?? ''}`);
  const transparent = request.background === 'transparent' && request.format !== 'jpeg';
  const background = {
    r: hash & 0xff,
    g: (hash >>> 8) & 0xff,
    b: (hash >>> 16) & 0xff,
    alpha: transparent ? 0 : 1,
  };
  const image = sharp({
    create: { width: request.width, height: request.height, channels: transparent ? 4 : 3, background },
  });
  const out =
    request.format === 'jpeg' ? image.jpeg() : request.format === 'webp' ? image.webp() : image.png();
  return new Uint8Array(await out.toBuffer());
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
