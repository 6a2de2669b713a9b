import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { PixelError } from '../protocol/errors.ts';
import { readDatasetFolder } from './folder.ts';
import { differenceHash, hammingDistance, thumbnailDistance } from './hash.ts';
import { packZip } from './pack.ts';
import { datasetFolder, productPhoto } from './testing.ts';
import { type DatasetFile, validateDataset } from './validate.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const photos = async (count: number): Promise<DatasetFile[]> =>
  Promise.all(
    Array.from({ length: count }, async (_, i) => ({
      file: `p${i}.png`,
      bytes: await productPhoto({ variant: i }),
    })),
  );

async function refusal(files: DatasetFile[]): Promise<PixelError> {
  const error = await validateDataset(files).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!PixelError.isInstance(error)) throw new Error(`expected a PixelError, got ${String(error)}`);
  return error;
}

describe('training dataset validation', () => {
  it('accepts 3–30 distinct images and records size, sha256 and difference hash', async () => {
    const checked = await validateDataset(await photos(5));
    expect(checked).toHaveLength(5);
    expect(checked[0]).toMatchObject({ file: 'p0.png', mediaType: 'image/png', width: 320, height: 320 });
    expect(checked[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(checked[0]!.hash).toMatch(/^[0-9a-f]{528}$/);
  });

  it('refuses too few and too many images', async () => {
    const few = await refusal(await photos(2));
    expect(few.code).toBe('invalid_argument');
    expect(few.message).toBe('a training dataset needs 3–30 images, got 2');
    const many = await refusal(
      Array.from({ length: 31 }, (_, i) => ({ file: `${i}`, bytes: new Uint8Array([i]) })),
    );
    expect(many.message).toMatch(/got 31/);
  });

  it('names a file that is not an image', async () => {
    const files = await photos(3);
    files[1] = { file: 'notes.pdf', bytes: new TextEncoder().encode('%PDF-1.7 not an image') };
    const error = await refusal(files);
    expect(error.field).toBe('images.notes.pdf');
    expect(error.reason).toBe('not_an_image');
    expect(error.message).toMatch(/^notes\.pdf is not an image/);
  });

  it('names an image that is too small', async () => {
    const files = await photos(3);
    files[2] = { file: 'tiny.png', bytes: await productPhoto({ size: 128 }) };
    const error = await refusal(files);
    expect(error.field).toBe('images.tiny.png');
    expect(error.message).toBe('tiny.png is 128×128; each side must be at least 256 pixels');
  });

  it('names a format that is not PNG, JPEG or WebP', async () => {
    const files = await photos(3);
    const gif = await sharp(Buffer.from(files[0]!.bytes)).gif().toBuffer();
    files[0] = { file: 'anim.gif', bytes: new Uint8Array(gif) };
    const error = await refusal(files);
    expect(error.field).toBe('images.anim.gif');
    expect(error.message).toMatch(/anim\.gif is gif; use PNG, JPEG or WebP/);
  });

  it('refuses exact duplicates and near-duplicates, naming both files', async () => {
    const files = await photos(3);
    const same = await refusal([...files, { file: 'copy.png', bytes: files[0]!.bytes }]);
    expect(same.reason).toBe('duplicate');
    expect(same.message).toBe('copy.png is a duplicate of p0.png (same bytes)');

    // The same photo re-encoded as JPEG and resized: other bytes, the same picture.
    const again = await sharp(Buffer.from(files[1]!.bytes)).resize(300, 300).jpeg({ quality: 80 }).toBuffer();
    const near = await refusal([...files, { file: 'again.jpg', bytes: new Uint8Array(again) }]);
    expect(near.reason).toBe('near_duplicate');
    expect(near.field).toBe('images.again.jpg');
    expect(near.message).toMatch(
      /^again\.jpg is a near-duplicate of p1\.png \(difference hashes \d of 64 bits apart/,
    );
  });

  it('fingerprints: re-encodes stay close, different photos are far apart', async () => {
    const a = await productPhoto({ variant: 0 });
    const a2 = await productPhoto({ variant: 0, format: 'jpeg' });
    const b = await productPhoto({ variant: 3 });
    const [ha, ha2, hb] = [await differenceHash(a), await differenceHash(a2), await differenceHash(b)];
    expect(hammingDistance(ha, ha2)).toBeLessThanOrEqual(10);
    expect(thumbnailDistance(ha, ha2)).toBeLessThanOrEqual(6);
    expect(thumbnailDistance(ha, hb)).toBeGreaterThan(12);
  });
});

describe('dataset folders and packing', () => {
  it('reads images with their .txt captions, skipping hidden files', async () => {
    const dir = await datasetFolder(3);
    dirs.push(dir);
    writeFileSync(join(dir, '.DS_Store'), 'x');
    const files = await readDatasetFolder(dir);
    expect(files.map((f) => f.file)).toEqual(['01.png', '02.png', '03.png']);
    expect(files[0]!.caption).toBe('a ube cake on a grey counter');
    expect(files[1]!.caption).toBeUndefined();
  });

  it('packs a zip of numbered images with .txt captions beside them', async () => {
    const bytes = new Map<string, Uint8Array>();
    const store = {
      get: async (key: string) => ({ bytes: bytes.get(key)!, mediaType: 'image/png' }),
    } as unknown as Parameters<typeof packZip>[0];
    const images = await Promise.all(
      [0, 1, 2].map(async (i) => {
        bytes.set(`k${i}`, await productPhoto({ variant: i }));
        return {
          file: `${i}.png`,
          imageId: `img_${i}`,
          key: `k${i}`,
          sha256: '',
          mediaType: 'image/png',
          width: 320,
          height: 320,
          hash: '',
          ...(i === 0 && { caption: 'a TOK ube cake' }),
        };
      }),
    );
    const zip = unzipSync(await packZip(store, images));
    expect(Object.keys(zip).sort()).toEqual(['01.png', '01.txt', '02.png', '03.png']);
    expect(new TextDecoder().decode(zip['01.txt'])).toBe('a TOK ube cake');
    expect(zip['02.png']).toEqual(bytes.get('k1'));
    expect(await packZip(store, images)).toEqual(await packZip(store, images));
  });
});
