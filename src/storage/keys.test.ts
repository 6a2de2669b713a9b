import { describe, expect, it } from 'vitest';
import { PixelError } from '../protocol/errors.ts';
import {
  assertSafeKey,
  blobKey,
  checkPut,
  mediaTypeForKey,
  sha256FromKey,
  sha256Hex,
  sniffMediaType,
} from './keys.ts';

const sha = sha256Hex(new TextEncoder().encode('pixel'));

describe('keys', () => {
  it('derives fan-out keys from the sha256 and the media type', () => {
    const key = blobKey(sha, 'image/jpeg');
    expect(key).toBe(`images/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}.jpg`);
    expect(sha256FromKey(key)).toBe(sha);
    expect(mediaTypeForKey(key)).toBe('image/jpeg');
    expect(() => assertSafeKey(key)).not.toThrow();
  });

  it('refuses traversal, absolute paths, backslashes, NUL and non-keys with field "key"', () => {
    const bad: unknown[] = [
      '..',
      `images/${sha.slice(0, 2)}/${sha.slice(2, 4)}/../${sha}.png`,
      `./images/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}.png`,
      `/images/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}.png`,
      `C:/images/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}.png`,
      `images\\${sha.slice(0, 2)}\\${sha.slice(2, 4)}\\${sha}.png`,
      `images/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}.png\0`,
      `images/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}.png/`,
      `images/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}.PNG`,
      `images/zz/${sha.slice(2, 4)}/${sha}.png`,
      `images/${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha.slice(1)}.png`,
      'images/%2e%2e/etc/passwd',
      '',
      42,
      undefined,
    ];
    for (const key of bad) {
      let error: unknown;
      try {
        assertSafeKey(key);
      } catch (e) {
        error = e;
      }
      expect(PixelError.isInstance(error), JSON.stringify(key)).toBe(true);
      expect((error as PixelError).field).toBe('key');
      expect((error as PixelError).httpStatus).toBe(400);
    }
  });

  it('sniffs formats from magic numbers', () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]);
    expect(sniffMediaType(png)).toBe('image/png');
    expect(sniffMediaType(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffMediaType(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    expect(sniffMediaType(new TextEncoder().encode('GIF89a'))).toBe('image/gif');
    expect(sniffMediaType(new TextEncoder().encode('<html>'))).toBeUndefined();
    expect(checkPut(png, 'IMAGE/PNG').mediaType).toBe('image/png');
  });
});
