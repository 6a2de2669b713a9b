import { describe, expect, it } from 'vitest';
import { fitSeed, nthSeed } from './seed.ts';

describe('seeds', () => {
  const uint32 = { min: 0, max: 4_294_967_295, zeroMeansRandom: false };
  const stability = { min: 0, max: 4_294_967_294, zeroMeansRandom: true };
  const titan = { min: 0, max: 2_147_483_646, zeroMeansRandom: false };

  it('keeps seeds that fit, including 0 and the maximum', () => {
    expect(fitSeed(0, uint32)).toBe(0);
    expect(fitSeed(4_294_967_295, uint32)).toBe(4_294_967_295);
    expect(fitSeed(2_147_483_646, titan)).toBe(2_147_483_646);
  });

  it('never sends 0 where 0 means random', () => {
    expect(fitSeed(0, stability)).not.toBe(0);
    expect(fitSeed(1, stability)).toBe(1);
    expect(fitSeed(4_294_967_295, stability)).toBeGreaterThanOrEqual(1);
    expect(fitSeed(4_294_967_295, stability)).toBeLessThanOrEqual(4_294_967_294);
  });

  it('folds seeds above a smaller range into it, deterministically', () => {
    const folded = fitSeed(4_000_000_000, titan);
    expect(folded).toBeGreaterThanOrEqual(0);
    expect(folded).toBeLessThanOrEqual(2_147_483_646);
    expect(fitSeed(4_000_000_000, titan)).toBe(folded);
  });

  it('numbers images consecutively and wraps at the top of the range', () => {
    expect(nthSeed(10, 3, uint32)).toBe(13);
    expect(nthSeed(4_294_967_295, 1, uint32)).toBe(0);
    expect(nthSeed(4_294_967_294, 1, stability)).toBe(1);
  });
});
