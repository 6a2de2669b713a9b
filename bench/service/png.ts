import sharp from 'sharp';

export const BENCH_SIDE = 1024;

function render(patch: number, seed: number): Promise<Buffer> {
  const side = BENCH_SIDE;
  const pixels = Buffer.alloc(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const i = (y * side + x) * 3;
      pixels[i] = y >> 2;
      pixels[i + 1] = 96;
      pixels[i + 2] = 255 - (y >> 2);
    }
  }
  let s = seed >>> 0;
  for (let y = 0; y < patch; y++) {
    for (let x = 0; x < patch * 3; x++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      pixels[y * side * 3 + x] = s >>> 24;
    }
  }
  return sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
    .png()
    .toBuffer();
}

/**
 * A real 1024×1024 PNG of about `targetBytes`: a vertical gradient (compresses to almost nothing) with
 * a square of noise (incompressible, ~3 bytes a pixel) sized so the file lands near the target; one
 * correction pass rescales the square. 1024×1024 is the size the bench asks for, so Pixel hands the
 * provider's bytes over without resizing them.
 */
export async function benchPng(targetBytes = 256 * 1024, seed = 42): Promise<Buffer> {
  const first = Math.min(BENCH_SIDE, Math.floor(Math.sqrt(targetBytes / 3)));
  const png = await render(first, seed);
  const area = first * first * (targetBytes / png.length);
  const patch = Math.min(BENCH_SIDE, Math.floor(Math.sqrt(area)));
  return patch === first ? png : render(patch, seed);
}
