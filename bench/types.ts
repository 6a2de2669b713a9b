/** Each `bench/*.bench.ts` exports `bench(): Promise<BenchSection>`; `npm run bench` prints them all. */
export interface BenchSection {
  title: string;
  /** Rows printed as a table; put the baseline and Pixel side by side in the same section. */
  rows: Array<Record<string, string | number>>;
  notes?: string[];
}

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  const index = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1));
  return sortedMs[index]!;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
