import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../apps/permissions.ts';
import { type Db, openDatabase } from '../../catalog/db.ts';
import { recordJudgement } from '../calibration/record.ts';
import { judgesReport } from '../calibration/report.ts';
import type { Question } from '../types.ts';
import { queueReason, ReviewService } from './service.ts';

let db: Db;
let reviews: ReviewService;
const meat: Actor = { team: 'meat', role: 'member', name: 'ana' };
const meat2: Actor = { team: 'meat', role: 'member', name: 'ben' };
const meatViewer: Actor = { team: 'meat', role: 'viewer', name: 'vic' };
const produce: Actor = { team: 'produce', role: 'admin', name: 'pat' };

const question: Question = {
  id: 'bg',
  text: 'Is the background white?',
  expected: 'yes',
  category: 'background',
  critical: true,
  fixHint: 'x',
  source: 'rubric',
};

beforeAll(async () => {
  db = await openDatabase({ memory: true });
  reviews = new ReviewService(db);
  // 6 gate results for butcher-cuts (team meat): scores and pass flags
  const gate: Array<[string, number, boolean]> = [
    ['img_a1', 0.9, true],
    ['img_a2', 0.95, true],
    ['img_a3', 0.85, true],
    ['img_a4', 0.5, false],
    ['img_a5', 0.4, false],
    ['img_a6', 0.88, true],
  ];
  for (const [id, score, passed] of gate) {
    await recordJudgement(db, {
      imageId: id,
      app: 'butcher-cuts',
      team: 'meat',
      model: 'pixel/sketch',
      judge: 'pixel/inspect',
      round: 1,
      score,
      passed,
      questions: [question],
      answers: [
        {
          questionId: 'bg',
          answer: passed ? 'yes' : 'no',
          pYes: passed ? 0.9 : 0.1,
          path: 'pixels',
          judge: 'pixel/inspect',
        },
      ],
    });
    await reviews.enqueue(id, {
      app: 'butcher-cuts',
      team: 'meat',
      reason: passed ? 'passed' : 'failed-sample',
    });
  }
  await reviews.enqueue('img_p1', { app: 'produce', team: 'produce', reason: 'passed' });
});
afterAll(async () => {
  await db?.close();
});

describe('review queue and permissions', () => {
  it('shows a team only its own queue', async () => {
    const mine = await reviews.queue(meat);
    expect(mine.map((i) => i.imageId)).toEqual(['img_a1', 'img_a2', 'img_a3', 'img_a4', 'img_a5', 'img_a6']);
    expect(mine[0]).toMatchObject({
      app: 'butcher-cuts',
      reason: 'passed',
      score: 0.9,
      passed: true,
      reviews: 0,
    });
    expect((await reviews.queue(produce)).map((i) => i.imageId)).toEqual(['img_p1']);
  });

  it('does not let a viewer approve, nor another team review', async () => {
    await expect(reviews.review(meatViewer, { imageId: 'img_a1', verdict: 'approve' })).rejects.toMatchObject(
      {
        code: 'permission_denied',
      },
    );
    await expect(reviews.review(produce, { imageId: 'img_a1', verdict: 'approve' })).rejects.toMatchObject({
      code: 'not_found',
      message: "no image img_a1 in team produce's review queue",
    });
    await expect(
      reviews.prefer(meatViewer, { imageA: 'img_a1', imageB: 'img_a2', preferred: 'a' }),
    ).rejects.toMatchObject({
      code: 'permission_denied',
    });
  });

  it('validates verdicts, ratings and reason tags naming the field', async () => {
    await expect(reviews.review(meat, { imageId: 'img_a1', rating: 6 })).rejects.toMatchObject({
      field: 'rating',
    });
    await expect(
      reviews.review(meat, { imageId: 'img_a1', verdict: 'approve', reasons: ['Bad Tag'] }),
    ).rejects.toMatchObject({
      field: 'reasons[0]',
    });
    await expect(reviews.review(meat, { imageId: 'img_a1' })).rejects.toMatchObject({ field: 'verdict' });
  });

  it('keeps several reviewers per image, reports their agreement, and drops reviewed items from the reviewer’s queue', async () => {
    // ana: approve a1 a2 a3 a6, reject a4 a5 (matches the gate on all six)
    // ben: approve a1 a2 a4, reject a3 a5 (disagrees with ana on a3 and a4)
    const ana: Record<string, 'approve' | 'reject'> = {
      img_a1: 'approve',
      img_a2: 'approve',
      img_a3: 'approve',
      img_a4: 'reject',
      img_a5: 'reject',
      img_a6: 'approve',
    };
    const ben: Record<string, 'approve' | 'reject'> = {
      img_a1: 'approve',
      img_a2: 'approve',
      img_a3: 'reject',
      img_a4: 'approve',
      img_a5: 'reject',
    };
    const rating: Record<string, number> = {
      img_a1: 4,
      img_a2: 5,
      img_a3: 3,
      img_a4: 2,
      img_a5: 1,
      img_a6: 4,
    };
    for (const [id, verdict] of Object.entries(ana))
      await reviews.review(meat, {
        imageId: id,
        verdict,
        rating: rating[id],
        reasons: verdict === 'reject' ? ['looks-cooked'] : [],
      });
    for (const [id, verdict] of Object.entries(ben)) await reviews.review(meat2, { imageId: id, verdict });
    expect((await reviews.queue(meat2)).map((i) => i.imageId)).toEqual(['img_a6']);
    await reviews.prefer(meat, { imageA: 'img_a1', imageB: 'img_a2', preferred: 'b' });

    const agreement = await reviews.agreement(meat);
    // 5 images with two verdicts, 3 agree: pairs (A,B) = (T,T) (T,T) (T,F) (F,T) (F,F)
    // po = 3/5; pe = (3/5·3/5) + (2/5·2/5) = 0.52; kappa = 0.08/0.48
    expect(agreement).toMatchObject({ images: 5, pairs: 5 });
    expect(agreement.percentAgreement).toBeCloseTo(0.6, 12);
    expect(agreement.kappa).toBeCloseTo(0.08 / 0.48, 12);

    const rates = await reviews.approvalRates(meat, { by: 'judge' });
    // majority per image: a1 ✓, a2 ✓, a3 tie (left out of approvals), a4 tie, a5 ✗, a6 ✓
    expect(rates).toHaveLength(1);
    expect(rates[0]).toMatchObject({ key: 'pixel/inspect', reviewed: 6, approved: 3 });
  });

  it('reports judge–human agreement, per path and category, with a fitted threshold', async () => {
    const report = await judgesReport(db, { team: 'meat', minImages: 1 });
    const j = report.judges.find((x) => x.judge === 'pixel/inspect')!;
    // images with a majority: a1 ✓ a2 ✓ a5 ✗ a6 ✓ (a3, a4 tied): the gate agrees on all four
    expect(j.images).toBe(4);
    expect(j.verdicts).toMatchObject({ accuracy: 1, kappa: 1, precision: 1, recall: 1 });
    expect(j.paths.pixels!.background).toMatchObject({ n: 4, accuracy: 1 });
    // score vs ana's ratings (the only ratings): scores .9 .95 .85 .5 .4 .88 vs 4 5 3 2 1 4
    expect(j.ratings.n).toBe(6);
    expect(j.ratings.spearman).toBeGreaterThan(0.9);
    expect(j.flagged).toBe(false);
    expect(report.thresholds[0]).toMatchObject({ app: 'butcher-cuts', kappa: 1 });
    expect(report.thresholds[0]!.threshold).toBeGreaterThan(0.4);
    expect(report.thresholds[0]!.threshold).toBeLessThanOrEqual(0.88);
    const other = await judgesReport(db, { team: 'produce' });
    expect(other.judges).toEqual([]);
  });
});

describe('what goes to the queue', () => {
  it('sends everything passed and a sample of failures', () => {
    const policy = { mode: 'sample' as const, failedSample: 0.2 };
    expect(queueReason('passed', policy, () => 0.9)).toBe('passed');
    expect(queueReason('failed', policy, () => 0.1)).toBe('failed-sample');
    expect(queueReason('failed', policy, () => 0.5)).toBeUndefined();
    expect(queueReason('failed', { mode: 'all', failedSample: 0 }, () => 1)).toBe('all');
    expect(queueReason('failed', { mode: 'passed', failedSample: 1 }, () => 0)).toBeUndefined();
  });
});
