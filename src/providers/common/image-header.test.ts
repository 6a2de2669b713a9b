import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { checkedHeader, checkImage } from './http.ts';
import { readImageHeader } from './image-header.ts';

const W = 37;
const H = 23;
const rgb = () => sharp({ create: { width: W, height: H, channels: 3, background: '#c0603a' } });
const rgba = () =>
  sharp({ create: { width: W, height: H, channels: 4, background: { r: 10, g: 200, b: 30, alpha: 0.5 } } });

/** Every header shape a provider sends, made by libvips itself so its own metadata() is the reference. */
const CASES: Record<string, () => Promise<Buffer>> = {
  'png rgb': () => rgb().png().toBuffer(),
  'png rgba': () => rgba().png().toBuffer(),
  'png grey': () => rgb().greyscale().png().toBuffer(),
  'png grey + alpha': () => rgba().greyscale().png().toBuffer(),
  'png palette': () => rgb().png({ palette: true }).toBuffer(),
  'png palette + tRNS': () => rgba().png({ palette: true }).toBuffer(),
  'png 16-bit': () => rgb().toColourspace('rgb16').png().toBuffer(),
  jpeg: () => rgb().jpeg().toBuffer(),
  'jpeg progressive': () => rgb().jpeg({ progressive: true }).toBuffer(),
  'jpeg, EXIF orientation 6': () => rgb().jpeg().withMetadata({ orientation: 6 }).toBuffer(),
  'webp lossy': () => rgb().webp().toBuffer(),
  'webp lossy + alpha': () => rgba().webp().toBuffer(),
  'webp lossless': () => rgb().webp({ lossless: true }).toBuffer(),
  'webp lossless + alpha': () => rgba().webp({ lossless: true }).toBuffer(),
  'webp with XMP (VP8X, no alpha)': () =>
    rgb().webp().withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>').toBuffer(),
};

describe('readImageHeader', () => {
  for (const [name, make] of Object.entries(CASES)) {
    it(`agrees with sharp's metadata on ${name}`, async () => {
      const bytes = await make();
      const meta = await sharp(bytes).metadata();
      const header = readImageHeader(bytes);
      expect(header).toEqual({
        format: meta.format,
        width: meta.width,
        height: meta.height,
        ...(meta.orientation !== undefined && { orientation: meta.orientation }),
        hasAlpha: meta.hasAlpha,
      });
    });
  }

  it('leaves GIF, cut-short headers and non-images to sharp', async () => {
    const gif = await rgb().gif().toBuffer();
    const png = await rgba().png().toBuffer();
    expect(readImageHeader(gif)).toBeUndefined();
    expect(readImageHeader(png.subarray(0, 20))).toBeUndefined();
    expect(readImageHeader(Buffer.from('<html>rate limited</html>'))).toBeUndefined();
    expect(readImageHeader(new Uint8Array(0))).toBeUndefined();
  });
});

describe('checkImage', () => {
  it('reads a PNG header without libvips and records it for delivery', async () => {
    const png = await rgba().png().toBuffer();
    const checked = await checkImage('openai', png);
    expect(checked).toMatchObject({ mediaType: 'image/png', width: W, height: H });
    expect(checkedHeader(png)).toMatchObject({ format: 'png', hasAlpha: true });
  });

  it('falls back to sharp for GIF', async () => {
    const gif = await rgb().gif().toBuffer();
    const checked = await checkImage('openai', gif);
    expect(checked).toMatchObject({ mediaType: 'image/gif', width: W, height: H });
  });

  it('calls bytes that are not an image a malformed response, naming the declared type', async () => {
    const error = await checkImage('openai', Buffer.from('<html>oops</html>'), 'image/png').catch((e) => e);
    expect(error).toMatchObject({ code: 'unavailable', reason: 'malformed_response' });
    expect(error.message).toContain('declared image/png');
    const cut = (await rgb().png().toBuffer()).subarray(0, 12);
    await expect(checkImage('openai', cut)).rejects.toMatchObject({ reason: 'malformed_response' });
  });
});
