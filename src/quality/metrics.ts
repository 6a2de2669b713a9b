import { invalidArgument } from '../protocol/errors.ts';

/**
 * Agreement between a judge and people. Pure functions over plain arrays, so the same code scores
 * the catalogue's review labels and a published rating file.
 */

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

function sameLength(a: readonly unknown[], b: readonly unknown[], field: string): void {
  if (a.length !== b.length)
    throw invalidArgument(
      field,
      `${field}: both series must have the same length, got ${a.length} and ${b.length}`,
    );
}

/** Counts of a binary prediction against the truth (true = yes / approved). */
export function confusion(predicted: readonly boolean[], truth: readonly boolean[]): Confusion {
  sameLength(predicted, truth, 'predicted');
  const out: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < predicted.length; i++) {
    if (predicted[i]) truth[i] ? out.tp++ : out.fp++;
    else truth[i] ? out.fn++ : out.tn++;
  }
  return out;
}

const total = (c: Confusion) => c.tp + c.fp + c.tn + c.fn;

/** Share of items where prediction and truth agree; null on an empty set. */
export function accuracy(c: Confusion): number | null {
  const n = total(c);
  return n === 0 ? null : (c.tp + c.tn) / n;
}

/** Of the items predicted yes, the share that are yes; null when nothing was predicted yes. */
export function precision(c: Confusion): number | null {
  return c.tp + c.fp === 0 ? null : c.tp / (c.tp + c.fp);
}

/** Of the items that are yes, the share predicted yes; null when nothing is yes. */
export function recall(c: Confusion): number | null {
  return c.tp + c.fn === 0 ? null : c.tp / (c.tp + c.fn);
}

/**
 * Cohen's kappa: agreement beyond what two raters with these marginals would reach by chance.
 * Null when it is undefined (empty set, or both raters always give the same single label).
 */
export function cohenKappa(c: Confusion): number | null {
  const n = total(c);
  if (n === 0) return null;
  const po = (c.tp + c.tn) / n;
  const pe = ((c.tp + c.fp) * (c.tp + c.fn) + (c.fn + c.tn) * (c.fp + c.tn)) / (n * n);
  if (pe === 1) return null;
  return (po - pe) / (1 - pe);
}

/** 1-based ranks; tied values share the average of the ranks they span. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = rank;
    i = j + 1;
  }
  return ranks;
}

function checkFinite(values: readonly number[], field: string): void {
  for (const v of values)
    if (!Number.isFinite(v))
      throw invalidArgument(field, `${field}: every value must be a finite number, got ${v}`);
}

/** Pearson's r; null with fewer than two points or when a series is constant. */
export function pearson(x: readonly number[], y: readonly number[]): number | null {
  sameLength(x, y, 'x');
  checkFinite(x, 'x');
  checkFinite(y, 'y');
  const n = x.length;
  if (n < 2) return null;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return sxy / Math.sqrt(sxx * syy);
}

/** Spearman's rho: Pearson over average ranks (the tie-correct form). */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  sameLength(x, y, 'x');
  checkFinite(x, 'x');
  checkFinite(y, 'y');
  return pearson(averageRanks(x), averageRanks(y));
}

/**
 * Kendall's tau-b, which corrects for ties in either series:
 * (concordant − discordant) / sqrt((n0 − ties in x)(n0 − ties in y)). O(n²) over pairs.
 */
export function kendallTauB(x: readonly number[], y: readonly number[]): number | null {
  sameLength(x, y, 'x');
  checkFinite(x, 'x');
  checkFinite(y, 'y');
  const n = x.length;
  if (n < 2) return null;
  let concordant = 0;
  let discordant = 0;
  let tiesX = 0;
  let tiesY = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[i]! - x[j]!);
      const dy = Math.sign(y[i]! - y[j]!);
      if (dx === 0) tiesX++;
      if (dy === 0) tiesY++;
      if (dx === 0 || dy === 0) continue;
      if (dx === dy) concordant++;
      else discordant++;
    }
  }
  const n0 = (n * (n - 1)) / 2;
  const denominator = Math.sqrt((n0 - tiesX) * (n0 - tiesY));
  return denominator === 0 ? null : (concordant - discordant) / denominator;
}

export interface BinaryAgreement {
  n: number;
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  kappa: number | null;
}

export function binaryAgreement(predicted: readonly boolean[], truth: readonly boolean[]): BinaryAgreement {
  const c = confusion(predicted, truth);
  return {
    n: predicted.length,
    accuracy: accuracy(c),
    precision: precision(c),
    recall: recall(c),
    kappa: cohenKappa(c),
  };
}

export interface FittedThreshold extends BinaryAgreement {
  /** Predict yes when score >= threshold. */
  threshold: number;
}

/**
 * The threshold on a score that best reproduces people's yes/no verdicts: every distinct score is
 * tried (plus one above the maximum, "never yes"); the highest kappa wins, then the highest
 * accuracy, then the lower threshold. Null on an empty set.
 */
export function fitThreshold(scores: readonly number[], truth: readonly boolean[]): FittedThreshold | null {
  sameLength(scores, truth, 'scores');
  checkFinite(scores, 'scores');
  if (scores.length === 0) return null;
  const candidates = [...new Set(scores)].sort((a, b) => a - b);
  candidates.push(candidates[candidates.length - 1]! + 1);
  let best: FittedThreshold | undefined;
  for (const threshold of candidates) {
    const agreement = binaryAgreement(
      scores.map((s) => s >= threshold),
      truth,
    );
    if (best === undefined || better(agreement, best)) best = { threshold, ...agreement };
  }
  return best!;
}

function better(a: BinaryAgreement, b: BinaryAgreement): boolean {
  const ka = a.kappa ?? Number.NEGATIVE_INFINITY;
  const kb = b.kappa ?? Number.NEGATIVE_INFINITY;
  if (ka !== kb) return ka > kb;
  return (a.accuracy ?? 0) > (b.accuracy ?? 0);
}

export interface RatingAgreement {
  n: number;
  spearman: number | null;
  kendallTauB: number | null;
  pearson: number | null;
}

export function ratingAgreement(scores: readonly number[], ratings: readonly number[]): RatingAgreement {
  return {
    n: scores.length,
    spearman: spearman(scores, ratings),
    kendallTauB: kendallTauB(scores, ratings),
    pearson: pearson(scores, ratings),
  };
}
