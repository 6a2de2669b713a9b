import { describe, expect, it } from 'vitest';
import { layout } from './layout.ts';
import { mulberry32 } from './prng.ts';

describe('layout', () => {
  const canvases: Array<[number, number]> = [
    [64, 64],
    [1024, 1024],
    [8192, 64],
    [64, 8192],
    [333, 777],
  ];
  for (const [width, height] of canvases) {
    it(`keeps every box inside a ${width}x${height} canvas`, () => {
      for (let count = 1; count <= 12; count++) {
        const aspects = Array.from({ length: count }, (_, i) => [0.35, 1, 1.8, 3][i % 4]!);
        const boxes = layout(aspects, width, height, mulberry32(count));
        expect(boxes).toHaveLength(count);
        for (const [i, box] of boxes.entries()) {
          expect(box.x).toBeGreaterThanOrEqual(0);
          expect(box.y).toBeGreaterThanOrEqual(0);
          expect(box.x + box.w).toBeLessThanOrEqual(width);
          expect(box.y + box.h).toBeLessThanOrEqual(height);
          expect(box.w / box.h).toBeCloseTo(aspects[i]!, 5);
        }
      }
    });
  }

  it('moves boxes with the seed', () => {
    const a = layout([1, 1], 512, 512, mulberry32(1));
    const b = layout([1, 1], 512, 512, mulberry32(2));
    expect(a).not.toEqual(b);
    expect(layout([1, 1], 512, 512, mulberry32(1))).toEqual(a);
  });
});
