import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tempPlatform } from '../jobs/testing.ts';
import { createInspectJudge } from '../quality/inspect/inspect.ts';
import type { PairJudge } from '../quality/judges/pairwise.ts';
import { LOCAL_TEAM } from '../server/auth.ts';
import { createSketchTuneBackend } from './backends/sketch.ts';
import { readDatasetFolder } from './folder.ts';
import { createInspectPairJudge } from './pair-judge.ts';
import { FinetuneService } from './service.ts';
import { datasetFolder, productPhoto } from './testing.ts';
import type { Finetune } from './types.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const png = async (colour: string, variant = 0) => ({
  bytes: await productPhoto({ colour, variant }),
  mediaType: 'image/png',
});

describe('pixel/inspect as a pairwise judge', () => {
  it('prefers the image that meets the criteria, the same in both orders', async () => {
    const judge = createInspectPairJudge();
    const purple = await png('#7b3fa0');
    const orange = await png('#e07b1a', 1);
    const criteria = ['Is the subject mostly purple?', 'Is the background light grey?'];
    const ab = await judge.preferOnce(purple, orange, criteria);
    const ba = await judge.preferOnce(orange, purple, criteria);
    expect(ab.pFirst).toBeGreaterThan(0.7);
    expect(ab.pFirst + ba.pFirst).toBeCloseTo(1, 9);
    expect(ab.costUsd).toBe(0);
    // Criteria it cannot measure say nothing either way.
    expect((await judge.preferOnce(purple, orange, ['Is it a cake?'])).pFirst).toBe(0.5);
  });
});

describe('the promotion rule: margin and pairwise win rate', () => {
  async function run(pairJudge?: PairJudge, minWinRate?: number): Promise<Finetune> {
    const env = await tempPlatform();
    cleanups.push(() => env.close());
    const dir = await datasetFolder(4);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const p = env.platform;
    await p.finetunes.datasets.createFromFiles({
      team: LOCAL_TEAM,
      name: 'ube-cakes',
      category: 'bakery',
      source: 'test',
      files: await readDatasetFolder(dir),
    });
    const service = new FinetuneService({
      db: p.db,
      datasets: p.finetunes.datasets,
      registry: p.finetunes.registry,
      catalog: p.catalog,
      adapter: p.adapter,
      backends: new Map([['sketch', createSketchTuneBackend()]]),
      judge: createInspectJudge(),
      ...(pairJudge && { pairJudge }),
      ...(minWinRate !== undefined && { minWinRate }),
    });
    let job = await service.start({
      team: LOCAL_TEAM,
      dataset: 'ube-cakes',
      backend: 'sketch',
      base: 'pixel/sketch',
      trigger: 'TOK',
      classNoun: 'ube cake',
    });
    for (let i = 0; i < 10 && job.state !== 'succeeded' && job.state !== 'failed'; i++) {
      job = (await service.step(job)) ?? (await service.get(job.id));
    }
    return job;
  }

  it('a strong sketch tune beats pixel/sketch on scores and wins the pairwise comparisons: promoted', async () => {
    const done = await run();
    const evaluation = done.evaluation!;
    expect(evaluation.passed).toBe(true);
    expect(done.promoted).toBe(true);
    expect(evaluation.pairwise).toMatchObject({
      judge: 'pixel/inspect',
      criteria: evaluation.questions,
      minWinRate: 0.5,
      costUsd: 0,
    });
    expect(evaluation.pairwise!.winRate).toBeGreaterThan(0.5);
    expect(evaluation.pairwise!.wins.finetune).toBeGreaterThan(evaluation.pairwise!.wins.base);
    for (const row of evaluation.prompts) {
      expect(row.pair).toMatchObject({ consistent: expect.any(Boolean), positionBias: 0 });
    }
    expect(evaluation.verdict).toMatch(/beats it by at least 20%; won \d+% of the pairwise comparisons/);
  }, 120_000);

  it('beating the margin is not enough when the fine-tune loses the pairwise comparisons', async () => {
    // A pair judge with the opposite taste: it prefers whichever image meets the criteria less.
    const inspect = createInspectPairJudge();
    const contrarian: PairJudge = {
      id: 'test/contrarian',
      preferOnce: (first, second, criteria, signal) => inspect.preferOnce(second, first, criteria, signal),
    };
    const done = await run(contrarian);
    const evaluation = done.evaluation!;
    expect(evaluation.finetuneScore - evaluation.baseScore).toBeGreaterThanOrEqual(0.2);
    expect(evaluation.pairwise).toMatchObject({ judge: 'test/contrarian' });
    expect(evaluation.pairwise!.winRate).toBeLessThan(0.5);
    expect(evaluation.passed).toBe(false);
    expect(done.promoted).toBe(false);
    expect(evaluation.verdict).toMatch(/beats it by at least 20%, but won \d+% .* so it is not promoted$/);
  }, 120_000);
});
