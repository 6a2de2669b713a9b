import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderSketch } from './render.ts';

const solid = (
  width: number,
  height: number,
  background: { r: number; g: number; b: number; alpha: number },
) =>
  sharp({ create: { width, height, channels: 4, background } })
    .png()
    .toBuffer();

/** Opaque (keep) everywhere but the bottom-right quarter, which is transparent (edit there). */
async function quarterMask(side: number): Promise<Buffer> {
  const data = Buffer.alloc(side * side * 4);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) data[(y * side + x) * 4 + 3] = x >= side / 2 && y >= side / 2 ? 0 : 255;
  }
  return sharp(data, { raw: { width: side, height: side, channels: 4 } })
    .png()
    .toBuffer();
}

const rgb = async (bytes: Uint8Array) =>
  sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });

describe('renderSketch over an input image', () => {
  it('covers the canvas with the image and draws the shapes on it', async () => {
    const image = await solid(300, 200, { r: 0, g: 0, b: 255, alpha: 1 });
    const out = await renderSketch({
      prompt: 'a red apple',
      width: 256,
      height: 256,
      seed: 3,
      format: 'png',
      background: 'opaque',
      over: { image },
    });
    const { data, info } = await rgb(out.bytes);
    expect([info.width, info.height, info.channels]).toEqual([256, 256, 3]);
    expect([...data.subarray(0, 3)]).toEqual([0, 0, 255]);
    const centre = (128 * 256 + 128) * 3;
    expect([...data.subarray(centre, centre + 3)]).not.toEqual([0, 0, 255]);
    expect(out.recognised).toContain('apple');
  });

  it('with a mask, keeps every pixel where the mask is opaque', async () => {
    const base = await renderSketch({
      prompt: 'a plain wall',
      width: 256,
      height: 256,
      seed: 1,
      format: 'png',
      background: 'opaque',
    });
    const mask = await quarterMask(256);
    const out = await renderSketch({
      prompt: 'a lemon, a lime, an orange, a plum, a pear, an apple',
      width: 256,
      height: 256,
      seed: 1,
      format: 'png',
      background: 'opaque',
      over: { image: base.bytes, mask },
    });
    const [a, b] = await Promise.all([rgb(base.bytes), rgb(out.bytes)]);
    let keptDiffer = 0;
    let editedDiffer = 0;
    for (let y = 0; y < 256; y++) {
      for (let x = 0; x < 256; x++) {
        const i = (y * 256 + x) * 3;
        const differs =
          a.data[i] !== b.data[i] || a.data[i + 1] !== b.data[i + 1] || a.data[i + 2] !== b.data[i + 2];
        if (x >= 128 && y >= 128) editedDiffer += differs ? 1 : 0;
        else keptDiffer += differs ? 1 : 0;
      }
    }
    expect(keptDiffer).toBe(0);
    expect(editedDiffer).toBeGreaterThan(0);
  });

  it('refuses an input that is not an image, naming the field', async () => {
    await expect(
      renderSketch({
        prompt: 'x',
        width: 64,
        height: 64,
        seed: 0,
        format: 'png',
        background: 'opaque',
        over: { image: new Uint8Array([1, 2, 3]) },
      }),
    ).rejects.toMatchObject({ code: 'invalid_argument', field: 'image' });
  });
});
