import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { PixelError } from '../protocol/errors.ts';
import type { ImageFormat } from '../protocol/request.ts';
import type { DeliveryPlan } from '../translate/types.ts';
import { type DeliverableImage, deliver } from './deliver.ts';

async function solid(
  width: number,
  height: number,
  format: ImageFormat,
  colour: { r: number; g: number; b: number; alpha?: number } = { r: 200, g: 40, b: 40 },
): Promise<DeliverableImage> {
  const channels = colour.alpha === undefined ? 3 : 4;
  const data = await sharp({ create: { width, height, channels, background: colour } })
    [format]()
    .toBuffer();
  return { bytes: new Uint8Array(data), mediaType: `image/${format}`, width, height };
}

const plan = (patch: Partial<DeliveryPlan>): DeliveryPlan => ({
  fit: 'exact',
  nativeFormat: 'png',
  format: 'png',
  background: 'auto',
  flatten: false,
  ...patch,
});

async function pixel(bytes: Uint8Array, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [...data.subarray(at, at + info.channels)];
}

describe('deliver', () => {
  it('crops and resizes to exactly the requested size for several aspect changes', async () => {
    const cases: Array<[number, number, number, number]> = [
      [1024, 1024, 1200, 800],
      [1024, 1024, 800, 1200],
      [1024, 768, 333, 777],
      [1536, 1024, 64, 64],
      [512, 512, 1000, 1000],
      [832, 1216, 1920, 1080],
    ];
    for (const [w, h, width, height] of cases) {
      const out = await deliver(await solid(w, h, 'png'), plan({ width, height }));
      const meta = await sharp(out.bytes).metadata();
      expect([meta.width, meta.height, out.width, out.height]).toEqual([width, height, width, height]);
      expect(out.operations).toEqual([`resize ${w}x${h}→${width}x${height} (cover, centre crop)`]);
    }
  });

  it('keeps the centre when cropping', async () => {
    // Three vertical bands, red | green | blue; a square crop of the middle is all green.
    const band = (r: number, g: number, b: number) =>
      sharp({ create: { width: 100, height: 100, channels: 3, background: { r, g, b } } })
        .png()
        .toBuffer();
    const strip = await sharp({ create: { width: 300, height: 100, channels: 3, background: '#000' } })
      .composite([
        { input: await band(255, 0, 0), left: 0, top: 0 },
        { input: await band(0, 255, 0), left: 100, top: 0 },
        { input: await band(0, 0, 255), left: 200, top: 0 },
      ])
      .png()
      .toBuffer();
    const out = await deliver(
      { bytes: new Uint8Array(strip), mediaType: 'image/png', width: 300, height: 100 },
      plan({ width: 100, height: 100 }),
    );
    expect((await pixel(out.bytes, 2, 50)).slice(0, 3)).toEqual([0, 255, 0]);
    expect((await pixel(out.bytes, 97, 50)).slice(0, 3)).toEqual([0, 255, 0]);
  });

  it('converts the format when the provider returned another one', async () => {
    const out = await deliver(await solid(64, 64, 'png'), plan({ format: 'webp' }));
    expect(out.mediaType).toBe('image/webp');
    expect((await sharp(out.bytes).metadata()).format).toBe('webp');
    expect(out.operations).toEqual(['convert png→webp']);

    const back = await deliver(await solid(64, 64, 'jpeg'), plan({ fit: 'native', format: 'png' }));
    expect((await sharp(back.bytes).metadata()).format).toBe('png');
    expect(back.operations).toEqual(['convert jpeg→png']);
  });

  it('flattens transparency onto white when the plan says so', async () => {
    const clear = await solid(64, 64, 'png', { r: 0, g: 0, b: 0, alpha: 0 });
    const out = await deliver(clear, plan({ flatten: true, background: 'opaque' }));
    expect(out.operations).toEqual(['flatten onto #ffffff']);
    expect((await sharp(out.bytes).metadata()).hasAlpha).toBe(false);
    expect(await pixel(out.bytes, 10, 10)).toEqual([255, 255, 255]);
  });

  it('flattens onto white, not black, when alpha goes to jpeg', async () => {
    const clear = await solid(64, 64, 'png', { r: 0, g: 0, b: 0, alpha: 0 });
    const out = await deliver(clear, plan({ format: 'jpeg' }));
    expect(out.operations).toEqual(['flatten onto #ffffff', 'convert png→jpeg']);
    const [r, g, b] = await pixel(out.bytes, 10, 10);
    expect(Math.min(r!, g!, b!)).toBeGreaterThan(250);
  });

  it('keeps alpha when the target is transparent', async () => {
    const clear = await solid(64, 64, 'png', { r: 0, g: 0, b: 0, alpha: 0 });
    const out = await deliver(
      clear,
      plan({ format: 'webp', background: 'transparent', width: 32, height: 32 }),
    );
    expect((await sharp(out.bytes).metadata()).hasAlpha).toBe(true);
    expect((await pixel(out.bytes, 5, 5))[3]).toBe(0);
  });

  it('returns the very same bytes when nothing needs doing', async () => {
    const input = await solid(96, 64, 'webp');
    for (const p of [
      plan({ format: 'webp', width: 96, height: 64 }),
      plan({ fit: 'native', format: 'webp' }),
    ]) {
      const out = await deliver(input, p);
      expect(out.operations).toEqual([]);
      expect(out.bytes).toBe(input.bytes);
    }
    // Flatten asked for an image that has no alpha: nothing to do either.
    const opaque = await deliver(input, plan({ format: 'webp', flatten: true }));
    expect(opaque.bytes).toBe(input.bytes);
  });

  it('trusts an already-decoded header: no decode when nothing needs doing, the same work when it does', async () => {
    const clear = await solid(64, 64, 'png', { r: 0, g: 0, b: 0, alpha: 0 });
    const meta = await sharp(clear.bytes).metadata();
    const known = { format: meta.format!, width: 64, height: 64, hasAlpha: meta.hasAlpha === true };
    const kept = await deliver(clear, plan({ width: 64, height: 64 }), known);
    expect(kept.operations).toEqual([]);
    expect(kept.bytes).toBe(clear.bytes);
    // Alpha that must go is still flattened, exactly as when deliver decodes the header itself.
    const flat = await deliver(clear, plan({ width: 64, height: 64, flatten: true }), known);
    const decoded = await deliver(clear, plan({ width: 64, height: 64, flatten: true }));
    expect(flat.operations).toEqual(decoded.operations);
    expect(flat.operations).toContain('flatten onto #ffffff');
    expect(await pixel(flat.bytes, 1, 1)).toEqual(await pixel(decoded.bytes, 1, 1));
    // A known header that says work is needed (a resize) gets it done.
    const resized = await deliver(clear, plan({ width: 32, height: 32 }), known);
    expect([resized.width, resized.height]).toEqual([32, 32]);
  });

  it('turns EXIF-rotated images upright before measuring', async () => {
    const data = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#abc' } })
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const out = await deliver(
      { bytes: new Uint8Array(data), mediaType: 'image/jpeg', width: 200, height: 100 },
      plan({ format: 'jpeg', width: 100, height: 200 }),
    );
    expect(out.operations).toEqual(['auto-orient (EXIF orientation 6)']);
    expect([out.width, out.height]).toEqual([100, 200]);
  });

  it('refuses a transparent jpeg and undecodable bytes clearly', async () => {
    const jpeg = await deliver(
      await solid(64, 64, 'png'),
      plan({ format: 'jpeg', background: 'transparent' }),
    ).catch((e: unknown) => e);
    expect(
      PixelError.isInstance(jpeg) && jpeg.code === 'invalid_argument' && jpeg.field === 'background',
    ).toBe(true);
    const junk = await deliver(
      { bytes: new TextEncoder().encode('not an image'), mediaType: 'image/png', width: 1, height: 1 },
      plan({}),
    ).catch((e: unknown) => e);
    expect(PixelError.isInstance(junk) && junk.reason === 'malformed_response').toBe(true);
  });
});
