import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { PixelError } from '../../protocol/errors.ts';
import { ascii, view } from './bytes.ts';
import { embedLineage, readLineage, TRAINED_ALGORITHMIC_MEDIA } from './index.ts';

const W = 64;
const H = 48;

/** Deterministic noise so encoders cannot collapse the image to nothing. */
function noise(channels: 3 | 4, seed: number): Buffer {
  const out = Buffer.alloc(W * H * channels);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

async function encode(kind: string): Promise<Uint8Array> {
  const alpha = kind.endsWith('alpha');
  const img = sharp(noise(alpha ? 4 : 3, 7), { raw: { width: W, height: H, channels: alpha ? 4 : 3 } });
  if (kind.startsWith('png')) return img.png().toBuffer();
  if (kind === 'jpeg') return img.jpeg({ quality: 80 }).toBuffer();
  if (kind === 'webp-lossy') return img.webp({ quality: 80 }).toBuffer();
  if (kind === 'webp-lossless') return img.webp({ lossless: true }).toBuffer();
  return img.webp({ quality: 80, alphaQuality: 90 }).toBuffer(); // webp-alpha: VP8X + ALPH
}

const raw = async (bytes: Uint8Array) => sharp(bytes).raw().toBuffer({ resolveWithObject: true });

const record = {
  imageId: 'img_01JZ8Q7T4W2V6N3K5M9P0R1S2T',
  model: 'openai/gpt-image-1.5',
  prompt: 'butcher cut: ribeye steak </pixel:lineage> & "quotes" <b>not xml</b> — 牛排 🥩',
  params: { seed: 0, width: 64, height: 48, cfgScale: 7 },
  parentImageId: null,
  createdAt: '2026-11-30T12:00:00.000Z',
  digitalSourceType: TRAINED_ALGORITHMIC_MEDIA,
};

const cases = [
  { kind: 'png', mediaType: 'image/png' },
  { kind: 'png-alpha', mediaType: 'image/png' },
  { kind: 'jpeg', mediaType: 'image/jpeg' },
  { kind: 'webp-lossy', mediaType: 'image/webp' },
  { kind: 'webp-lossless', mediaType: 'image/webp' },
  { kind: 'webp-alpha', mediaType: 'image/webp' },
];

function expectPixelError(fn: () => unknown, field: string): void {
  try {
    fn();
  } catch (error) {
    expect(PixelError.isInstance(error), String(error)).toBe(true);
    expect((error as PixelError).code).toBe('invalid_argument');
    expect((error as PixelError).field).toBe(field);
    return;
  }
  throw new Error('expected a PixelError');
}

/** Count of non-overlapping occurrences of an ASCII marker in the bytes. */
function count(bytes: Uint8Array, marker: string): number {
  return Buffer.from(bytes).toString('latin1').split(marker).length - 1;
}

describe.each(cases)('lineage in $kind', ({ kind, mediaType }) => {
  it('keeps the pixels identical and reads the record and IPTC source type back', async () => {
    const original = await encode(kind);
    const embedded = embedLineage(original, mediaType, record);
    expect(embedded.length).toBeGreaterThan(original.length);
    const [a, b] = await Promise.all([raw(original), raw(embedded)]);
    expect(b.info).toEqual(a.info);
    expect(Buffer.compare(a.data, b.data)).toBe(0);

    const read = readLineage(embedded, mediaType);
    expect(read.record).toEqual(record);
    expect(read.digitalSourceType).toBe(TRAINED_ALGORITHMIC_MEDIA);
    expect(read.xmp).toContain('pixel:imageId="img_01JZ8Q7T4W2V6N3K5M9P0R1S2T"');
    expect(read.xmp).toContain('pixel:model="openai/gpt-image-1.5"');
    expect(read.truncated).toBeUndefined();

    // A third-party reader (libvips) finds the XMP packet too.
    const meta = await sharp(embedded).metadata();
    expect(meta.xmp?.toString('utf8')).toContain(TRAINED_ALGORITHMIC_MEDIA);
  });

  it('replaces earlier lineage instead of stacking it', async () => {
    const once = embedLineage(await encode(kind), mediaType, record);
    const twice = embedLineage(once, mediaType, { ...record, imageId: 'img_second' });
    expect(readLineage(twice, mediaType).record?.imageId).toBe('img_second');
    expect(count(twice, '<pixel:lineage>')).toBe(1);
    expect(count(twice, 'Iptc4xmpExt:DigitalSourceType=')).toBe(1);
    // Only the id changed: the file shrinks by the id difference once per copy (XMP JSON, XMP
    // attribute, and the PNG text chunk), plus at most a WebP pad byte.
    const copies = mediaType === 'image/png' ? 3 : 2;
    const shorter = (record.imageId.length - 'img_second'.length) * copies;
    const delta = once.length - twice.length;
    expect(delta).toBeGreaterThanOrEqual(shorter - 1);
    expect(delta).toBeLessThanOrEqual(shorter + 1);
  });

  it('reports nothing for an image without lineage', async () => {
    expect(readLineage(await encode(kind), mediaType).record).toBeUndefined();
  });

  it('never crashes on truncated or corrupted bytes: a result or a PixelError', async () => {
    const good = embedLineage(await encode(kind), mediaType, record);
    let rng = 12345;
    const next = () => {
      rng = (Math.imul(rng, 1103515245) + 12345) >>> 0;
      return rng;
    };
    const variants: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) variants.push(good.subarray(0, Math.floor((good.length * i) / 40)));
    for (let i = 0; i < 150; i++) {
      const copy = good.slice();
      const at = next() % Math.min(copy.length, 400); // headers live near the start
      copy[at] = next() & 0xff;
      variants.push(copy);
    }
    let rejected = 0;
    for (const bytes of variants) {
      for (const op of [() => readLineage(bytes, mediaType), () => embedLineage(bytes, mediaType, record)]) {
        try {
          op();
        } catch (error) {
          expect(PixelError.isInstance(error), String(error)).toBe(true);
          expect((error as PixelError).field).toBe('bytes');
          rejected++;
        }
      }
    }
    expect(rejected).toBeGreaterThan(0);
  });
});

describe('lineage format details', () => {
  it('turns a simple WebP into VP8X with the XMP flag, the bitstream canvas and a correct RIFF size', async () => {
    for (const kind of ['webp-lossy', 'webp-lossless']) {
      const original = await encode(kind);
      expect(ascii(original, 12, 4)).toMatch(/^VP8[ L]$/);
      const out = embedLineage(original, 'image/webp', record);
      const dv = view(out);
      expect(dv.getUint32(4, true)).toBe(out.length - 8);
      expect(ascii(out, 12, 4)).toBe('VP8X');
      expect(out[20]! & 0x04).toBe(0x04);
      expect((dv.getUint32(24, true) & 0xffffff) + 1).toBe(W);
      expect((dv.getUint32(27, true) & 0xffffff) + 1).toBe(H);
    }
  });

  it('shrinks the JPEG copy to fit one APP1 segment, keeps valid JSON and says what it left out', async () => {
    const big = { ...record, nativeRequest: { prompt: 'x'.repeat(80_000) } };
    const out = embedLineage(await encode('jpeg'), 'image/jpeg', big);
    const read = readLineage(out, 'image/jpeg');
    expect(read.truncated).toBe(true);
    expect(read.record?.imageId).toBe(record.imageId);
    expect(read.record?.nativeRequest).toBeUndefined();
    expect(read.xmp).toContain('pixel:lineageOmitted="nativeRequest"');
    await expect(raw(out)).resolves.toBeDefined();
  });

  it('keeps the full record in PNG however large', async () => {
    const big = { ...record, nativeRequest: { prompt: 'y'.repeat(200_000) } };
    const read = readLineage(embedLineage(await encode('png'), 'image/png', big), 'image/png');
    expect(read.record).toEqual(big);
  });

  it('replaces an XMP packet written by sharp', async () => {
    const withXmp = await sharp(noise(3, 1), { raw: { width: W, height: H, channels: 3 } })
      .withXmp(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>',
      )
      .png()
      .toBuffer();
    const out = embedLineage(withXmp, 'image/png', record);
    expect(count(out, 'XML:com.adobe.xmp')).toBe(1);
    expect(readLineage(out, 'image/png').digitalSourceType).toBe(TRAINED_ALGORITHMIC_MEDIA);
  });

  it('rejects bad arguments with a PixelError naming the field', async () => {
    const png = await encode('png');
    expectPixelError(() => embedLineage(png, 'image/gif', record), 'mediaType');
    expectPixelError(() => embedLineage(png, 'image/jpeg', record), 'bytes');
    expectPixelError(() => readLineage(new Uint8Array(0), 'image/webp'), 'bytes');
    expectPixelError(
      () => embedLineage(png, 'image/png', [] as unknown as Record<string, unknown>),
      'record',
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expectPixelError(() => embedLineage(png, 'image/png', cyclic), 'record');
    expectPixelError(() => readLineage('not bytes' as unknown as Uint8Array, 'image/png'), 'bytes');
  });
});
