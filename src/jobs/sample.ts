import type { SampleSpec } from '../catalog/batch-runs.ts';
import { invalidArgument } from '../protocol/errors.ts';
import { mulberry32 } from '../sketch/prng.ts';

/**
 * Which items of a dataset of `count` a run covers, in item order: all, the first n, or n drawn at random
 * with a seed (a partial Fisher–Yates shuffle on mulberry32, so the same seed picks the same items everywhere).
 */
export function sampleIndexes(count: number, spec: SampleSpec): number[] {
  if (spec.mode === 'all') return Array.from({ length: count }, (_, i) => i);
  const n = spec.n ?? 0;
  if (!Number.isInteger(n) || n < 1)
    throw invalidArgument('sample', `a sample size must be a whole number ≥ 1, got ${n}`);
  if (n >= count) return Array.from({ length: count }, (_, i) => i);
  if (spec.mode === 'first') return Array.from({ length: n }, (_, i) => i);
  const seed = spec.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw invalidArgument('seed', `a sample seed must be 0–4294967295, got ${seed}`);
  }
  const rng = mulberry32(seed);
  const pool = Array.from({ length: count }, (_, i) => i);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rng() * (count - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n).sort((a, b) => a - b);
}
