import { describe, expect, it } from 'vitest';
import { mapCfg } from './cfg.ts';

describe('mapCfg', () => {
  const cases: Array<[string, { min: number; default: number; max: number }, number, number]> = [
    ['flux dev guidance 1.5–5 (3)', { min: 1.5, default: 3, max: 5 }, 1, 1.5],
    ['flux dev guidance 1.5–5 (3)', { min: 1.5, default: 3, max: 5 }, 7, 3],
    ['flux dev guidance 1.5–5 (3)', { min: 1.5, default: 3, max: 5 }, 20, 5],
    ['flux dev guidance 1.5–5 (3)', { min: 1.5, default: 3, max: 5 }, 4, 2.25],
    ['flux dev guidance 1.5–5 (3)', { min: 1.5, default: 3, max: 5 }, 13.5, 4],
    ['SDXL v1 0–35 (7)', { min: 0, default: 7, max: 35 }, 1, 0],
    ['SDXL v1 0–35 (7)', { min: 0, default: 7, max: 35 }, 7, 7],
    ['SDXL v1 0–35 (7)', { min: 0, default: 7, max: 35 }, 20, 35],
    ['SDXL v1 0–35 (7)', { min: 0, default: 7, max: 35 }, 10, 13.46],
    ['Titan 1.1–10 (8)', { min: 1.1, default: 8, max: 10 }, 2.5, 2.83],
    ['Titan 1.1–10 (8)', { min: 1.1, default: 8, max: 10 }, 19.99, 10],
  ];
  it.each(cases)('%s: %s → %s', (_name, range, value, expected) => {
    expect(mapCfg(value, range)).toBeCloseTo(expected, 2);
  });

  it('is monotonic across the whole scale', () => {
    const range = { min: 1, default: 4, max: 10 };
    let previous = -Infinity;
    for (let v = 1; v <= 20; v += 0.25) {
      const mapped = mapCfg(v, range);
      expect(mapped).toBeGreaterThanOrEqual(previous);
      previous = mapped;
    }
  });
});
