import { describe, expect, it } from 'vitest';
import { idTime, isImageId, newId, newImageId, newUlid } from './ids.ts';

describe('image ids', () => {
  it('are img_ + 26 Crockford base32 characters encoding the time', () => {
    const at = Date.UTC(2026, 10, 30, 12, 0, 0, 123);
    const id = newImageId(at);
    expect(id).toMatch(/^img_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(isImageId(id)).toBe(true);
    expect(idTime(id).getTime()).toBe(at);
  });

  it('sort in creation order within one millisecond and across milliseconds', () => {
    const generated: string[] = [];
    for (let i = 0; i < 500; i++) generated.push(newUlid(1_800_000_000_000 + Math.floor(i / 100)));
    expect(new Set(generated).size).toBe(generated.length);
    expect([...generated].sort()).toEqual(generated);
  });

  it('stay ordered when the clock steps back', () => {
    const later = newUlid(1_800_000_000_500);
    const earlier = newUlid(1_800_000_000_100);
    expect(earlier > later).toBe(true);
  });

  it('rejects what is not an image id', () => {
    for (const bad of [
      '',
      'img_',
      'img_123',
      `key_${newUlid()}`,
      `img_${newUlid().toLowerCase()}`,
      `img_${'U'.repeat(26)}`,
      42,
    ]) {
      expect(isImageId(bad)).toBe(false);
    }
    expect(newId('key')).toMatch(/^key_[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});
