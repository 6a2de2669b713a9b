import { describe, expect, it } from 'vitest';
import type { SizeSpec } from '../models/schema.ts';
import { solveSize } from './size.ts';

const openai: SizeSpec = {
  kind: 'list',
  sizes: [
    { width: 1024, height: 1024 },
    { width: 1536, height: 1024 },
    { width: 1024, height: 1536 },
  ],
  default: { width: 1024, height: 1024 },
};
const stability: SizeSpec = {
  kind: 'ratios',
  default: '1:1',
  ratios: [
    { ratio: '1:1', width: 1024, height: 1024 },
    { ratio: '16:9', width: 1344, height: 768 },
    { ratio: '21:9', width: 1536, height: 640 },
    { ratio: '2:3', width: 832, height: 1216 },
    { ratio: '3:2', width: 1216, height: 832 },
    { ratio: '9:16', width: 768, height: 1344 },
  ],
};
const gemini: SizeSpec = { ...stability, resolutions: { '1K': 1, '2K': 2, '4K': 4 } } as SizeSpec;
const bfl: SizeSpec = {
  kind: 'free',
  multipleOf: 32,
  minSide: 256,
  maxSide: 1440,
  default: { width: 1024, height: 768 },
};
const nova: SizeSpec = {
  kind: 'free',
  multipleOf: 16,
  minSide: 320,
  maxSide: 4096,
  maxPixels: 4_194_304,
  minAspect: 0.25,
  maxAspect: 4,
  default: { width: 1024, height: 1024 },
};

describe('solveSize', () => {
  it.each([
    [openai, { width: 1024, height: 1024 }, '1024x1024'],
    [openai, { width: 1920, height: 1080 }, '1536x1024'],
    [openai, { width: 600, height: 900 }, '1024x1536'],
    [openai, { ratio: 1 }, '1024x1024'],
    [openai, {}, '1024x1024'],
  ] as const)('list %#', (spec, target, expected) => {
    const size = solveSize(spec, target);
    expect(`${size.width}x${size.height}`).toBe(expected);
  });

  it('picks the nearest ratio in log space (so 1:2 and 2:1 are equally far from 1:1)', () => {
    expect(solveSize(stability, { width: 1920, height: 1080 })).toMatchObject({
      kind: 'ratio',
      ratio: '16:9',
    });
    expect(solveSize(stability, { ratio: 2.4 })).toMatchObject({ ratio: '21:9' });
    expect(solveSize(stability, { ratio: 0.6 })).toMatchObject({ ratio: '9:16' });
    expect(solveSize(stability, { ratio: 0.7 })).toMatchObject({ ratio: '2:3' });
    expect(solveSize(stability, {})).toMatchObject({ ratio: '1:1', width: 1024 });
  });

  it('chooses the resolution tier nearest the pixel count', () => {
    expect(solveSize(gemini, { width: 4000, height: 4000 })).toMatchObject({ resolution: '4K', width: 4096 });
    expect(solveSize(gemini, { width: 900, height: 900 })).toMatchObject({ resolution: '1K', width: 1024 });
    expect(solveSize(gemini, { width: 2100, height: 1200 })).toMatchObject({
      ratio: '16:9',
      resolution: '2K',
    });
  });

  it('snaps free sizes to the multiple and clamps to the sides', () => {
    expect(solveSize(bfl, { width: 1000, height: 700 })).toMatchObject({ width: 992, height: 704 });
    const big = solveSize(bfl, { width: 3000, height: 2000 });
    expect(big.width).toBeLessThanOrEqual(1440);
    expect(big.width % 32).toBe(0);
    expect(big.height % 32).toBe(0);
    expect(big.width / big.height).toBeCloseTo(1.5, 1);
    const tiny = solveSize(bfl, { width: 64, height: 64 });
    expect(tiny).toMatchObject({ width: 256, height: 256 });
  });

  it('respects max pixels and aspect limits', () => {
    const huge = solveSize(nova, { width: 8000, height: 4000 });
    expect(huge.width * huge.height).toBeLessThanOrEqual(4_194_304);
    expect(huge.width % 16).toBe(0);
    const thin = solveSize(nova, { width: 4000, height: 400 });
    expect(thin.width / thin.height).toBeLessThanOrEqual(4.05);
  });

  it('keeps the default pixel budget for a bare ratio on a free-size model', () => {
    const size = solveSize(nova, { ratio: 16 / 9 });
    expect(size.width / size.height).toBeCloseTo(16 / 9, 1);
    expect(size.width * size.height).toBeGreaterThan(900_000);
    expect(size.width * size.height).toBeLessThan(1_200_000);
  });
});
