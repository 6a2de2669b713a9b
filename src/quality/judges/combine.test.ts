import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderSketch } from '../../sketch/render.ts';
import { createInspectJudge } from '../inspect/inspect.ts';
import type { Answer, Judge, JudgeImage, Question } from '../types.ts';
import { createCascade } from './cascade.ts';
import { createEnsemble } from './ensemble.ts';
import { FAKE_ANTHROPIC_KEY, startFakeAnthropicJudge } from './fakes/anthropic.ts';
import type { FakeJudgeServer } from './fakes/brain.ts';
import { FAKE_OPENAI_KEY, type FakeOpenAiJudge, startFakeOpenAiJudge } from './fakes/openai.ts';
import { comparePair } from './pairwise.ts';
import { createVlmJudge } from './vlm.ts';

const q = (id: string, text: string, expected: 'yes' | 'no' = 'yes'): Question => ({
  id,
  text,
  expected,
  category: 'background',
  critical: false,
  fixHint: 'x',
  source: 'rubric',
});

/** A judge whose answers are fixed per question id (for combination rules). */
function fixed(id: string, family: string, p: Record<string, number | null>): Judge {
  return {
    id,
    family,
    async judge(request) {
      const answers = request.questions.map((question): Answer => {
        const v = p[question.id] ?? null;
        return v === null
          ? { questionId: question.id, answer: 'unsure', pYes: null, path: 'none', judge: id }
          : {
              questionId: question.id,
              answer: v >= 0.5 ? 'yes' : 'no',
              pYes: v,
              path: 'prompted',
              judge: id,
            };
      });
      return { answers, costUsd: 0.001, judges: [id] };
    },
  };
}

let image: JudgeImage;
let openai: FakeOpenAiJudge;
let anthropic: FakeJudgeServer;

beforeAll(async () => {
  const s = await renderSketch({
    prompt: 'three red apples on a white background',
    width: 256,
    height: 256,
    seed: 3,
    format: 'png',
    background: 'opaque',
  });
  image = { bytes: s.bytes, mediaType: s.mediaType };
  [openai, anthropic] = await Promise.all([startFakeOpenAiJudge(), startFakeAnthropicJudge()]);
});
afterAll(async () => {
  await Promise.all([openai?.close(), anthropic?.close()]);
});

describe('ensemble', () => {
  it('needs two families and averages P(yes), unsure when members split near 0.5', async () => {
    expect(() => createEnsemble([fixed('a', 'openai', {}), fixed('b', 'openai', {})])).toThrow(
      /at least two model families/,
    );
    const ens = createEnsemble([
      fixed('openai/x', 'openai', { a: 0.9, b: 0.56, c: null, d: null }),
      fixed('anthropic/y', 'anthropic', { a: 0.7, b: 0.4, c: 0.2, d: null }),
    ]);
    const r = await ens.judge({ image, questions: ['a', 'b', 'c', 'd'].map((id) => q(id, `${id}?`)) });
    expect(r.answers[0]).toMatchObject({ answer: 'yes', path: 'ensemble' });
    expect(r.answers[0]!.pYes).toBeCloseTo(0.8, 12);
    expect(r.answers[1]).toMatchObject({ answer: 'unsure', note: 'members disagreed' });
    expect(r.answers[2]).toMatchObject({ answer: 'no', pYes: 0.2 });
    expect(r.answers[3]).toMatchObject({ answer: 'unsure', path: 'none' });
    expect(r.answers[0]!.parts).toHaveLength(2);
    expect(r.costUsd).toBeCloseTo(0.002, 12);
  });

  it('combines two real API judges (OpenAI logprobs + Anthropic prompted) against their fakes', async () => {
    openai.brain.pYes = () => 0.8;
    anthropic.brain.pYes = () => 0.6;
    const ens = createEnsemble([
      createVlmJudge({
        model: 'openai/gpt-4.1-mini',
        connection: { apiKey: FAKE_OPENAI_KEY, baseURL: openai.baseURL },
        maxRetries: 0,
      }),
      createVlmJudge({
        model: 'anthropic/claude-haiku-4-5',
        connection: { apiKey: FAKE_ANTHROPIC_KEY, baseURL: anthropic.baseURL },
        maxRetries: 0,
      }),
    ]);
    const r = await ens.judge({ image, questions: [q('subject', 'Does the image show apples?')] });
    expect(r.answers[0]!.pYes).toBeCloseTo(0.7, 4);
    expect(r.answers[0]!.parts!.map((p) => p.path)).toEqual(['logprobs', 'prompted']);
  });
});

describe('cascade', () => {
  it('asks the paid judge only what pixel/inspect left unsure, and reports the saving', async () => {
    openai.brain.pYes = () => 0.9;
    const paid = createVlmJudge({
      model: 'openai/gpt-4.1-mini',
      connection: { apiKey: FAKE_OPENAI_KEY, baseURL: openai.baseURL },
      maxRetries: 0,
    });
    const cascade = createCascade(createInspectJudge(), paid);
    const questions = [
      q('bg', 'Is the background plain white?'),
      q('centred', 'Is the produce centred with space around it?'),
      q('subject', 'Does the image show three red apples?'),
    ];
    const before = openai.requests.length;
    const r = await cascade.judge({ image, questions });
    expect(r.answers.map((a) => [a.questionId, a.judge, a.path])).toEqual([
      ['bg', 'pixel/inspect', 'pixels'],
      ['centred', 'pixel/inspect', 'pixels'],
      ['subject', 'openai/gpt-4.1-mini', 'logprobs'],
    ]);
    expect(openai.requests.length - before).toBe(1);
    const asked = JSON.stringify(openai.requests.at(-1)!.body);
    expect(asked).toContain('three red apples');
    expect(asked).not.toContain('plain white');
    expect(r.cascade).toMatchObject({ answeredOffline: 2, askedPaid: 1 });
    expect(r.cascade!.savedUsd).toBeCloseTo(paid.estimateCostUsd(3) - paid.estimateCostUsd(1), 12);

    // Nothing left for the paid judge: no call at all.
    const only = await cascade.judge({ image, questions: questions.slice(0, 2) });
    expect(openai.requests.length - before).toBe(1);
    expect(only.cascade).toMatchObject({ answeredOffline: 2, askedPaid: 0 });
    expect(only.cascade!.savedUsd).toBeCloseTo(paid.estimateCostUsd(2), 12);
  });
});

describe('pairwise', () => {
  it('judges both orders and cancels a judge’s preference for the first image', async () => {
    const a = image;
    const bBytes = await sharp(image.bytes).blur(3).png().toBuffer();
    const b = { bytes: new Uint8Array(bBytes), mediaType: 'image/png' };
    const aKey = Buffer.from(a.bytes).toString('base64');
    // The fake prefers A on merit (+0.2) and whatever it sees first (+0.15).
    anthropic.brain.pFirst = (first) => 0.5 + (first === aKey ? 0.2 : -0.2) + 0.15;
    const judge = createVlmJudge({
      model: 'anthropic/claude-haiku-4-5',
      connection: { apiKey: FAKE_ANTHROPIC_KEY, baseURL: anthropic.baseURL },
      maxRetries: 0,
    });
    const r = await comparePair(judge, a, b, ['Is the produce sharp and centred?']);
    expect(r.orders.map((o) => o.shownFirst)).toEqual(['a', 'b']);
    expect(r.orders[0]!.pFirst).toBeCloseTo(0.85, 12);
    expect(r.orders[1]!.pFirst).toBeCloseTo(0.45, 12);
    // (0.85 + (1 − 0.45)) / 2 = 0.7; bias (0.85 + 0.45)/2 − 0.5 = 0.15
    expect(r.pA).toBeCloseTo(0.7, 12);
    expect(r.positionBias).toBeCloseTo(0.15, 12);
    expect(r.winner).toBe('a');
    expect(r.consistent).toBe(true);

    // Pure position bias: always prefers the first image → a tie, flagged inconsistent.
    anthropic.brain.pFirst = () => 0.8;
    const biased = await comparePair(judge, a, b, ['x']);
    expect(biased.pA).toBeCloseTo(0.5, 12);
    expect(biased.winner).toBe('tie');
    expect(biased.consistent).toBe(false);
  });
});
