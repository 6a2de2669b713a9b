import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../apps/permissions.ts';
import { type Db, openDatabase } from '../../catalog/db.ts';
import { recordJudgement } from '../calibration/record.ts';
import type { Answer, Question } from '../types.ts';
import { ReviewService } from './service.ts';

const ana: Actor = { team: 'meat', role: 'member', name: 'ana' };
const ben: Actor = { team: 'meat', role: 'member', name: 'ben' };
const cara: Actor = { team: 'meat', role: 'member', name: 'cara' };
const other: Actor = { team: 'produce', role: 'admin', name: 'pat' };

const question = (id: string): Question => ({
  id,
  text: `${id}?`,
  expected: 'yes',
  category: 'background',
  critical: false,
  fixHint: 'x',
  source: 'rubric',
});
const answer = (
  questionId: string,
  judge: string,
  value: Answer['answer'],
  path: Answer['path'] = 'pixels',
) => ({ questionId, answer: value, pYes: null, path, judge }) as Answer;

describe('review queue order: judge–human disagreements first', () => {
  let db: Db;
  let reviews: ReviewService;

  beforeAll(async () => {
    db = await openDatabase({ memory: true });
    reviews = new ReviewService(db);
    const judge = async (imageId: string, passed: boolean, answers: Answer[]) =>
      recordJudgement(db, {
        imageId,
        app: 'butcher-cuts',
        team: 'meat',
        model: 'pixel/sketch',
        judge: 'pixel/inspect',
        round: 1,
        score: passed ? 0.9 : 0.3,
        passed,
        questions: [question('bg'), question('cut')],
        answers,
      });
    const agreeing = (passed: boolean) => [answer('bg', 'pixel/inspect', passed ? 'yes' : 'no')];
    // q1: passed, nobody reviewed. q2: passed, ana rejects. q3: failed, ana approves.
    await judge('img_q1', true, agreeing(true));
    await judge('img_q2', true, agreeing(true));
    await judge('img_q3', false, agreeing(false));
    // q4: two judges answer "cut" differently (the ensemble's own combined row does not count).
    await judge('img_q4', true, [
      answer('bg', 'pixel/inspect', 'yes'),
      answer('cut', 'pixel/inspect', 'yes'),
      answer('cut', 'llm/a', 'no'),
      answer('cut', 'ensemble', 'yes', 'ensemble'),
    ]);
    // q5: passed; ana approves, cara rejects. q6: passed, ana approves (everyone agrees).
    await judge('img_q5', true, agreeing(true));
    await judge('img_q6', true, agreeing(true));
    // q7: one judge unsure where another said yes: not a split. Against the ensemble row only: not either.
    await judge('img_q7', true, [
      answer('bg', 'pixel/inspect', 'yes'),
      answer('bg', 'llm/a', 'unsure'),
      answer('cut', 'pixel/inspect', 'yes'),
      answer('cut', 'ensemble', 'no', 'ensemble'),
    ]);
    for (const id of ['img_q1', 'img_q2', 'img_q3', 'img_q4', 'img_q5', 'img_q6', 'img_q7'])
      await reviews.enqueue(id, { app: 'butcher-cuts', team: 'meat', reason: 'all' });
    await reviews.review(ana, { imageId: 'img_q2', verdict: 'reject', reasons: ['looks-cooked'] });
    await reviews.review(ana, { imageId: 'img_q3', verdict: 'approve', rating: 4 });
    await reviews.review(ana, { imageId: 'img_q5', verdict: 'approve', rating: 5, note: 'fine by me' });
    await reviews.review(cara, { imageId: 'img_q5', verdict: 'reject', reasons: ['wrong-cut'] });
    await reviews.review(ana, { imageId: 'img_q6', verdict: 'approve' });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('puts gate-vs-reviewer disagreements first, then judges or reviewers split, then the rest, oldest first', async () => {
    const queue = await reviews.queue(ben);
    expect(queue.map((i) => [i.imageId, i.disagreements])).toEqual([
      ['img_q2', ['judge-passed-people-rejected']],
      ['img_q3', ['judge-failed-people-approved']],
      ['img_q5', ['judge-passed-people-rejected', 'people-split']],
      ['img_q4', ['judges-split']],
      ['img_q1', []],
      ['img_q6', []],
      ['img_q7', []],
    ]);
    // The limit keeps the front of that order.
    expect((await reviews.queue(ben, { limit: 2 })).map((i) => i.imageId)).toEqual(['img_q2', 'img_q3']);
    // ana reviewed q2, q3, q5 and q6 herself: what is left for her, the split first.
    expect((await reviews.queue(ana)).map((i) => i.imageId)).toEqual(['img_q4', 'img_q1', 'img_q7']);
  });

  it('lists an image’s reviews for its own team only: who, verdict, reasons, rating, note, when', async () => {
    const list = await reviews.imageReviews(ben, 'img_q5');
    expect(list.map((r) => [r.reviewer, r.verdict, r.reasons, r.rating, r.note])).toEqual([
      ['ana', 'approve', [], 5, 'fine by me'],
      ['cara', 'reject', ['wrong-cut'], null, null],
    ]);
    for (const r of list) expect(r.createdAt.getTime()).toBeGreaterThan(Date.now() - 600_000);
    expect(await reviews.imageReviews(other, 'img_q5')).toEqual([]);
    expect(await reviews.imageReviews(ben, 'img_q1')).toEqual([]);
    await expect(reviews.imageReviews(ben, '')).rejects.toMatchObject({ field: 'imageId' });
  });
});
