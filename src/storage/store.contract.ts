import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PixelError } from '../protocol/errors.ts';
import { KEY_PATTERN, sha256Hex } from './keys.ts';
import type { BlobStore } from './types.ts';

export interface ContractTarget {
  /** A store with nothing in it. */
  store: BlobStore;
  /** Stops whatever the setup started (servers, folders). */
  teardown(): Promise<void>;
}

/** A small distinct image per seed, in the given format. */
export async function sampleImage(
  seed: number,
  format: 'png' | 'jpeg' | 'webp' = 'png',
): Promise<Uint8Array> {
  const pixels = Buffer.alloc(16 * 16 * 3, seed & 0xff);
  pixels.writeUInt32BE(seed >>> 0, 0);
  return sharp(pixels, { raw: { width: 16, height: 16, channels: 3 } })
    .toFormat(format, format === 'webp' ? { lossless: true } : {})
    .toBuffer();
}

async function rejects(promise: Promise<unknown>, field: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(PixelError.isInstance(error), `expected a PixelError for ${field}, got ${String(error)}`).toBe(true);
  expect((error as PixelError).code).toBe('invalid_argument');
  expect((error as PixelError).field).toBe(field);
}

async function collect(store: BlobStore) {
  const out = new Map<string, { size: number; lastModified: Date }>();
  for await (const item of store.list()) out.set(item.key, item);
  return out;
}

/** The behaviour every BlobStore must have; run by store.test.ts against the folder and S3 stores. */
export function storeContract(name: string, setup: () => Promise<ContractTarget>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let target: ContractTarget;
    let store: BlobStore;
    beforeAll(async () => {
      target = await setup();
      store = target.store;
    });
    afterAll(async () => {
      await target?.store.close();
      await target?.teardown();
    });

    it('puts and gets the same bytes back with the media type', async () => {
      const bytes = await sampleImage(1);
      const put = await store.put(bytes, { mediaType: 'image/png' });
      expect(put.size).toBe(bytes.length);
      expect(put.mediaType).toBe('image/png');
      const got = await store.get(put.key);
      expect(got?.mediaType).toBe('image/png');
      expect(Buffer.compare(Buffer.from(got!.bytes), Buffer.from(bytes))).toBe(0);
    });

    it('addresses content by sha256: same bytes same key, other bytes other key', async () => {
      const bytes = await sampleImage(2);
      const first = await store.put(bytes, { mediaType: 'image/png' });
      const second = await store.put(bytes.slice(), { mediaType: 'image/png' });
      expect(second.key).toBe(first.key);
      expect(first.sha256).toBe(sha256Hex(bytes));
      expect(first.key).toContain(first.sha256);
      expect(first.key).toMatch(KEY_PATTERN);
      const other = await store.put(await sampleImage(3), { mediaType: 'image/png' });
      expect(other.key).not.toBe(first.key);
      const listed = [...(await collect(store)).keys()].filter((k) => k === first.key);
      expect(listed).toHaveLength(1);
    });

    it('names keys by format', async () => {
      const jpeg = await store.put(await sampleImage(4, 'jpeg'), { mediaType: 'image/jpeg' });
      const webp = await store.put(await sampleImage(4, 'webp'), { mediaType: 'image/webp' });
      expect(jpeg.key.endsWith('.jpg')).toBe(true);
      expect(webp.key.endsWith('.webp')).toBe(true);
      expect((await store.get(webp.key))?.mediaType).toBe('image/webp');
    });

    it('tells existence, deletes idempotently, and can store the same bytes again', async () => {
      const bytes = await sampleImage(5);
      const { key } = await store.put(bytes, { mediaType: 'image/png' });
      expect(await store.exists(key)).toBe(true);
      await store.delete(key);
      expect(await store.exists(key)).toBe(false);
      expect(await store.get(key)).toBeUndefined();
      await store.delete(key);
      await store.put(bytes, { mediaType: 'image/png' });
      expect(await store.exists(key)).toBe(true);
    });

    it('lists every blob with its size and a recent modification time', async () => {
      const puts = [];
      for (let seed = 10; seed < 13; seed++) {
        puts.push(await store.put(await sampleImage(seed), { mediaType: 'image/png' }));
      }
      const listed = await collect(store);
      for (const put of puts) {
        const item = listed.get(put.key);
        expect(item?.size).toBe(put.size);
        expect(Math.abs(Date.now() - item!.lastModified.getTime())).toBeLessThan(10 * 60_000);
      }
      await store.delete(puts[0]!.key);
      expect((await collect(store)).has(puts[0]!.key)).toBe(false);
    });

    it('gives a URL that plain fetch can read', async () => {
      const bytes = await sampleImage(20);
      const put = await store.put(bytes, { mediaType: 'image/png' });
      for (const url of [put.url, await store.url(put.key)]) {
        const response = await fetch(url);
        expect(response.status).toBe(200);
        expect(Buffer.compare(Buffer.from(await response.arrayBuffer()), Buffer.from(bytes))).toBe(0);
      }
    });

    it('returns undefined / false for a well-formed key that was never stored', async () => {
      const key = `images/00/11/0011${'a'.repeat(60)}.png`;
      expect(await store.get(key)).toBeUndefined();
      expect(await store.exists(key)).toBe(false);
    });

    it('refuses unsafe keys on every operation', async () => {
      const sha = 'ab'.repeat(32);
      const bad = [
        '../../etc/passwd',
        `images/ab/ab/../../../${sha}.png`,
        `/images/ab/ab/${sha}.png`,
        `images\\ab\\ab\\${sha}.png`,
        `images/ab/ab/${sha}.png\0.txt`,
        `images/ab/ab/${sha.toUpperCase()}.png`,
        `images/cd/ab/${sha}.png`,
        `images/ab/ab/${sha}.exe`,
        `other/ab/ab/${sha}.png`,
        '',
      ];
      for (const key of bad) {
        await rejects(store.get(key), 'key');
        await rejects(store.exists(key), 'key');
        await rejects(store.delete(key), 'key');
        await rejects(store.url(key), 'key');
      }
    });

    it('rejects empty, mislabelled and unsupported puts', async () => {
      await rejects(store.put(new Uint8Array(0), { mediaType: 'image/png' }), 'bytes');
      await rejects(store.put(await sampleImage(30, 'jpeg'), { mediaType: 'image/png' }), 'bytes');
      await rejects(store.put(await sampleImage(30), { mediaType: 'text/html' }), 'mediaType');
      await rejects(store.put('not bytes' as unknown as Uint8Array, { mediaType: 'image/png' }), 'bytes');
    });
  });
}
