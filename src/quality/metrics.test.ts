import { describe, expect, it } from 'vitest';
import {
  accuracy,
  averageRanks,
  binaryAgreement,
  cohenKappa,
  confusion,
  fitThreshold,
  kendallTauB,
  pearson,
  precision,
  recall,
  spearman,
} from './metrics.ts';

function series(pairs: Array<[boolean, boolean, number]>): { a: boolean[]; b: boolean[] } {
  const a: boolean[] = [];
  const b: boolean[] = [];
  for (const [x, y, count] of pairs)
    for (let i = 0; i < count; i++) {
      a.push(x);
      b.push(y);
    }
  return { a, b };
}

describe('binary agreement', () => {
  it('computes the textbook kappa of 0.4 (50 items: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no)', () => {
    const { a, b } = series([
      [true, true, 20],
      [true, false, 5],
      [false, true, 10],
      [false, false, 15],
    ]);
    const c = confusion(a, b);
    expect(c).toEqual({ tp: 20, fp: 5, fn: 10, tn: 15 });
    // po = 35/50 = 0.7; pe = (25*30 + 25*20)/2500 = 0.5; kappa = 0.2/0.5
    expect(cohenKappa(c)).toBeCloseTo(0.4, 12);
    expect(accuracy(c)).toBeCloseTo(0.7, 12);
    expect(precision(c)).toBeCloseTo(20 / 25, 12);
    expect(recall(c)).toBeCloseTo(20 / 30, 12);
  });

  it('gives kappa 1 for perfect agreement, below 0 for systematic disagreement, null when undefined', () => {
    expect(cohenKappa(confusion([true, false, true], [true, false, true]))).toBe(1);
    expect(cohenKappa(confusion([true, false], [false, true]))).toBeCloseTo(-1, 12);
    expect(cohenKappa(confusion([true, true], [true, true]))).toBeNull();
    expect(binaryAgreement([], [])).toEqual({
      n: 0,
      accuracy: null,
      precision: null,
      recall: null,
      kappa: null,
    });
  });

  it('refuses series of different lengths, naming the field', () => {
    expect(() => confusion([true], [])).toThrow(
      /predicted: both series must have the same length, got 1 and 0/,
    );
  });
});

describe('rank correlations', () => {
  it('averages tied ranks', () => {
    expect(averageRanks([10, 20, 20, 30])).toEqual([1, 2.5, 2.5, 4]);
    expect(averageRanks([3, 1, 3, 3])).toEqual([3, 1, 3, 3]);
  });

  it('computes Spearman with ties as Pearson over average ranks (3/sqrt(10))', () => {
    // ranks x = [1, 2.5, 2.5, 4], y = [1, 3, 2, 4]: sum dxdy = 4.5, sum dx² = 4.5, sum dy² = 5
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(3 / Math.sqrt(10), 12);
  });

  it('computes Kendall tau-b with a tie in x (5/sqrt(30))', () => {
    // 6 pairs: 5 concordant, 0 discordant, 1 tied in x only
    expect(kendallTauB([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(5 / Math.sqrt(30), 12);
    // ties in both: x=[1,1,2,2], y=[1,2,2,3]: pairs (0,1) tie x, (2,3) tie x, (1,2) tie y; 3 concordant
    expect(kendallTauB([1, 1, 2, 2], [1, 2, 2, 3])).toBeCloseTo(3 / Math.sqrt((6 - 2) * (6 - 1)), 12);
  });

  it('computes Pearson against a hand-computed value and reverses sign on reversal', () => {
    // x = [1,2,3,4], y = [2,4,5,9]: dx = [-1.5,-.5,.5,1.5], dy = [-3,-1,0,4]; sxy = 11, sxx = 5, syy = 26
    expect(pearson([1, 2, 3, 4], [2, 4, 5, 9])).toBeCloseTo(11 / Math.sqrt(5 * 26), 12);
    expect(spearman([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    expect(kendallTauB([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
  });

  it('returns null for constant series and refuses non-finite values', () => {
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(kendallTauB([1, 1], [1, 2])).toBeNull();
    expect(() => spearman([1, Number.NaN], [1, 2])).toThrow(/x: every value must be a finite number/);
  });
});

describe('threshold fitting', () => {
  it('finds the cut that separates approved from rejected', () => {
    const scores = [0.1, 0.3, 0.55, 0.6, 0.8, 0.9];
    const human = [false, false, false, true, true, true];
    const fit = fitThreshold(scores, human)!;
    expect(fit.threshold).toBe(0.6);
    expect(fit.kappa).toBe(1);
    expect(fit.accuracy).toBe(1);
  });

  it('picks the best kappa when no cut is perfect and reports the agreement it gives', () => {
    const scores = [0.2, 0.4, 0.5, 0.7, 0.9];
    const human = [false, true, false, true, true];
    const fit = fitThreshold(scores, human)!;
    // t = 0.4: predicted [F,T,T,T,T] → tp 3, fp 1, tn 1, fn 0: po 0.8, pe (4*3+1*2)/25 = 0.56, kappa 0.24/0.44
    // t = 0.7: predicted [F,F,F,T,T] → tp 2, fp 0, tn 2, fn 1: po 0.8, pe (2*3+3*2)/25 = 0.48, kappa 0.32/0.52
    expect(fit.threshold).toBe(0.7);
    expect(fit.kappa).toBeCloseTo(0.32 / 0.52, 12);
    expect(fitThreshold([], [])).toBeNull();
  });
});
