import { INSPECT_ID, inspectWithStats } from '../quality/inspect/inspect.ts';
import { measurePixels } from '../quality/inspect/measure.ts';
import type { PairJudge } from '../quality/judges/pairwise.ts';
import type { Judge, Question } from '../quality/types.ts';

/**
 * `pixel/inspect` comparing two images: not a vision model, it measures both pictures and asks each
 * criterion (a yes/no question it can measure, such as the evaluation's colour questions) of both. Each
 * image's value is its mean P(yes) over the criteria (a borderline or unmeasurable one counts 0.5);
 * P(first is better) = 0.5 + (first − second) / 2. It reads each image on its own, so the order it is
 * shown them in cannot matter (no position bias).
 */
export function createInspectPairJudge(): PairJudge {
  return {
    id: INSPECT_ID,
    async preferOnce(first, second, criteria, signal) {
      signal?.throwIfAborted();
      const questions: Question[] = criteria.map((text, i) => ({
        id: `criterion-${i + 1}`,
        text,
        expected: 'yes',
        category: 'attribute',
        critical: false,
        fixHint: '',
        source: 'team',
      }));
      const value = async (bytes: Uint8Array) => {
        const answers = inspectWithStats(questions, await measurePixels(bytes));
        return answers.reduce((sum, a) => sum + (a.pYes ?? 0.5), 0) / Math.max(1, answers.length);
      };
      const [a, b] = await Promise.all([value(first.bytes), value(second.bytes)]);
      return { pFirst: Math.min(1, Math.max(0, 0.5 + (a - b) / 2)), costUsd: 0 };
    },
  };
}

/**
 * The judge that compares pairs for an evaluation: the judge itself when it can (a vision-model judge asks
 * its model which image better meets the criteria), `pixel/inspect`'s measurements when the judge is
 * pixel/inspect, none otherwise (an ensemble or cascade: the report says pairwise was not run).
 */
export function pairJudgeFor(judge: Judge): PairJudge | undefined {
  const candidate = judge as Partial<PairJudge>;
  if (typeof candidate.preferOnce === 'function') return judge as Judge & PairJudge;
  if (judge.id === INSPECT_ID) return createInspectPairJudge();
  return undefined;
}
