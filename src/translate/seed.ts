import { SEED_MAX } from '../protocol/request.ts';

export interface SeedRange {
  min: number;
  max: number;
  zeroMeansRandom: boolean;
}

/** The range of values a provider treats as a real seed (0 is excluded where it means "random"). */
export function usableRange(range: SeedRange): { lo: number; hi: number } {
  const lo = range.zeroMeansRandom && range.min <= 0 ? 1 : range.min;
  return { lo, hi: Math.min(range.max, SEED_MAX) };
}

/** Folds any unified seed into the provider's usable range; identity when it already fits. */
export function fitSeed(seed: number, range: SeedRange): number {
  const { lo, hi } = usableRange(range);
  if (seed >= lo && seed <= hi) return seed;
  return lo + (seed % (hi - lo + 1));
}

/** The seed of the i-th image of a request: consecutive, wrapping inside the usable range. */
export function nthSeed(base: number, index: number, range: SeedRange): number {
  const { lo, hi } = usableRange(range);
  return lo + ((base - lo + index) % (hi - lo + 1));
}
