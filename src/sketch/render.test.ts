import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { PixelError } from '../protocol/errors.ts';
import { STYLES } from '../protocol/request.ts';
import { renderSketch, type SketchOptions } from './render.ts';

const base: SketchOptions = {
  prompt: 'ribeye steak with broccoli and a red apple on a wooden table',
  width: 256,
  height: 192,
  seed: 7,
  format: 'png',
  background: 'opaque',
};
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('renderSketch', () => {
  it('gives the same bytes for the same options, in every format', async () => {
    for (const format of ['png', 'jpeg', 'webp'] as const) {
      const a = await renderSketch({ ...base, format });
      const b = await renderSketch({ ...base, format });
      expect(sha(a.bytes)).toBe(sha(b.bytes));
    }
  });

  it('gives the same bytes in a separate process', async () => {
    const here = fileURLToPath(new URL('./render.ts', import.meta.url));
    const script =
      `const { renderSketch } = await import(${JSON.stringify(here)});` +
      `const r = await renderSketch(${JSON.stringify(base)});` +
      `const { createHash } = await import('node:crypto');` +
      `process.stdout.write(createHash('sha256').update(r.bytes).digest('hex'));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    expect(stdout).toBe(sha((await renderSketch(base)).bytes));
  });

  it('changes with the seed and with the prompt', async () => {
    const reference = sha((await renderSketch(base)).bytes);
    expect(sha((await renderSketch({ ...base, seed: 8 })).bytes)).not.toBe(reference);
    expect(sha((await renderSketch({ ...base, prompt: 'a bowl of soup' })).bytes)).not.toBe(reference);
    // Even prompts with no known word differ from each other.
    const x = await renderSketch({ ...base, prompt: 'an abstract idea' });
    const y = await renderSketch({ ...base, prompt: 'a different abstract idea' });
    expect(x.recognised).toEqual([]);
    expect(sha(x.bytes)).not.toBe(sha(y.bytes));
  });

  it('decodes to exactly the requested size at odd sizes and extreme aspect ratios', async () => {
    const sizes: Array<[number, number]> = [
      [333, 777],
      [64, 64],
      [8192, 64],
      [64, 8192],
      [1001, 999],
    ];
    for (const [width, height] of sizes) {
      const image = await renderSketch({ ...base, width, height });
      const meta = await sharp(image.bytes).metadata();
      expect([meta.width, meta.height, image.width, image.height]).toEqual([width, height, width, height]);
    }
  });

  it('encodes each format with the matching media type and says what it is in EXIF', async () => {
    const expected = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' } as const;
    for (const format of ['png', 'jpeg', 'webp'] as const) {
      const image = await renderSketch({ ...base, format });
      const meta = await sharp(image.bytes).metadata();
      expect(meta.format).toBe(format);
      expect(image.mediaType).toBe(expected[format]);
      expect(meta.exif?.toString('latin1')).toContain('placeholder renderer');
    }
  });

  it('leaves the canvas transparent when asked, and opaque otherwise', async () => {
    for (const format of ['png', 'webp'] as const) {
      const image = await renderSketch({ ...base, format, background: 'transparent' });
      const { data, info } = await sharp(image.bytes).raw().toBuffer({ resolveWithObject: true });
      expect(info.channels).toBe(4);
      expect(data[3]).toBe(0); // top-left corner: no backdrop there
      let opaquePixels = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] === 255) opaquePixels++;
      expect(opaquePixels).toBeGreaterThan(0); // the shapes are drawn
    }
    const opaque = await sharp((await renderSketch(base)).bytes).metadata();
    expect(opaque.hasAlpha).toBe(false);
  });

  it('does not draw words named in the negative prompt', async () => {
    const all = await renderSketch(base);
    const without = await renderSketch({ ...base, negativePrompt: 'broccoli' });
    expect(all.recognised).toContain('broccoli');
    expect(without.recognised).not.toContain('broccoli');
    expect(without.recognised).toContain('ribeye steak');
    expect(sha(without.bytes)).not.toBe(sha(all.bytes));
  });

  it('looks different in each style', async () => {
    const hashes = new Set<string>();
    for (const style of STYLES)
      hashes.add(sha((await renderSketch({ ...base, prompt: 'an apple', style })).bytes));
    expect(hashes.size).toBe(STYLES.length);
  });

  it('refuses bad options with a PixelError naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ width: 63 }, 'width'],
      [{ height: 8193 }, 'height'],
      [{ width: 100.5 }, 'width'],
      [{ seed: -1 }, 'seed'],
      [{ seed: 2 ** 32 }, 'seed'],
      [{ style: 'watercolour' }, 'style'],
      [{ format: 'gif' }, 'format'],
      [{ format: 'jpeg', background: 'transparent' }, 'background'],
    ];
    for (const [patch, field] of cases) {
      const error = await renderSketch({ ...base, ...patch } as SketchOptions).catch((e: unknown) => e);
      expect(PixelError.isInstance(error)).toBe(true);
      expect((error as PixelError).code).toBe('invalid_argument');
      expect((error as PixelError).field).toBe(field);
    }
  });
});
