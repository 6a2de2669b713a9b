/**
 * Seeded randomness for the sketch layout. Hand-written on purpose: mulberry32 and FNV-1a are a
 * few lines each, fully specified, and give the same sequence on every platform and Node version,
 * which is the whole point (same options → same bytes). A dependency would add nothing.
 */

export type Rng = () => number;

/** mulberry32: a 32-bit state PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over UTF-16 code units: a stable 32-bit hash of a string. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A value in [min, max) drawn from the generator. */
export function between(rng: Rng, min: number, max: number): number {
  return min + (max - min) * rng();
}
