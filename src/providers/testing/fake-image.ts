import sharp from 'sharp';

/**
 * Real, decodable images for the fake provider servers. Uses `renderSketch` (the `pixel/sketch`
 * model) when it is available, else a flat sharp canvas whose colour follows the seed, so a fake
 * never depends on another part being finished.
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

type RenderFn = (options: Required<FakeImageRequest>) => Promise<FakeImage>;

// A variable specifier keeps the type-checker from requiring the module while it is being written.
const SKETCH_MODULE = '../../sketch/render.ts';
let sketchLoader: Promise<RenderFn | undefined> | undefined;

function loadSketch(): Promise<RenderFn | undefined> {
  sketchLoader ??= import(/* @vite-ignore */ SKETCH_MODULE).then(
    (module: { renderSketch?: unknown }) =>
      typeof module.renderSketch === 'function' ? (module.renderSketch as RenderFn) : undefined,
    () => undefined,
  );
  return sketchLoader;
}

const MEDIA = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' } as const;

export async function fakeImage(request: FakeImageRequest): Promise<FakeImage> {
  const options: Required<FakeImageRequest> = { format: 'png', background: 'opaque', ...request };
  const render = await loadSketch();
  if (render) {
    try {
      return await render(options);
    } catch {
      // fall through to the plain canvas
    }
  }
  return plainCanvas(options);
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
