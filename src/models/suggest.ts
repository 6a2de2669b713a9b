/**
 * "Did you mean" for unknown model names. Hand-written: a dozen lines of edit distance over a
 * few dozen names does not justify a dependency.
 */
export function suggest(name: string, candidates: readonly string[], limit = 3): string[] {
  const wanted = name.toLowerCase();
  const scored = candidates.map((candidate) => {
    const lower = candidate.toLowerCase();
    // Compare with the whole id and with the part after the provider prefix, so `gpt-image-1.5`
    // finds `openai/gpt-image-1.5`.
    const tail = lower.slice(lower.indexOf('/') + 1);
    const whole = distance(wanted, lower);
    let score = Math.min(whole, distance(wanted, tail));
    if (lower.includes(wanted) || (wanted.length >= 3 && wanted.includes(tail))) score = Math.min(score, 1);
    return { candidate, score, whole };
  });
  const threshold = Math.max(2, Math.ceil(wanted.length / 3));
  return scored
    .filter((s) => s.score <= threshold)
    .sort((a, b) => a.score - b.score || a.whole - b.whole || a.candidate.localeCompare(b.candidate))
    .slice(0, limit)
    .map((s) => s.candidate);
}

/** Levenshtein distance with one rolling row. */
export function distance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = row;
  }
  return prev[b.length]!;
}
