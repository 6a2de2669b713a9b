import type { JudgeImage } from '../types.ts';

export interface PairJudge {
  readonly id: string;
  preferOnce(
    first: JudgeImage,
    second: JudgeImage,
    criteria: readonly string[],
    signal?: AbortSignal,
  ): Promise<{ pFirst: number; costUsd: number }>;
}

export interface PairResult {
  /** P(A is the better image), averaged over both presentation orders. */
  pA: number;
  winner: 'a' | 'b' | 'tie';
  /** Both orders chose the same image. */
  consistent: boolean;
  /** How much the judge favours whichever image it sees first: mean P(first) − 0.5. */
  positionBias: number;
  orders: Array<{ shownFirst: 'a' | 'b'; pFirst: number }>;
  costUsd: number;
  judge: string;
}

/** Margin around 0.5 within which neither image wins. */
const TIE_BAND = 0.05;

/**
 * Compares two images of one item in both orders (A then B, B then A), so a judge that prefers
 * the first (or second) image it is shown cannot decide the result by position alone.
 */
export async function comparePair(
  judge: PairJudge,
  a: JudgeImage,
  b: JudgeImage,
  criteria: readonly string[],
  signal?: AbortSignal,
): Promise<PairResult> {
  const ab = await judge.preferOnce(a, b, criteria, signal);
  const ba = await judge.preferOnce(b, a, criteria, signal);
  const pA = (ab.pFirst + (1 - ba.pFirst)) / 2;
  const winner = pA > 0.5 + TIE_BAND ? 'a' : pA < 0.5 - TIE_BAND ? 'b' : 'tie';
  const firstChoice = ab.pFirst > 0.5 ? 'a' : ab.pFirst < 0.5 ? 'b' : 'tie';
  const secondChoice = ba.pFirst > 0.5 ? 'b' : ba.pFirst < 0.5 ? 'a' : 'tie';
  return {
    pA,
    winner,
    consistent: firstChoice === secondChoice,
    positionBias: (ab.pFirst + ba.pFirst) / 2 - 0.5,
    orders: [
      { shownFirst: 'a', pFirst: ab.pFirst },
      { shownFirst: 'b', pFirst: ba.pFirst },
    ],
    costUsd: ab.costUsd + ba.costUsd,
    judge: judge.id,
  };
}
