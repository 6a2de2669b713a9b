import { describe, expect, it } from 'vitest';
import { PixelError } from '../../protocol/errors.ts';
import { renderSketch } from '../../sketch/render.ts';
import { createInspectJudge } from '../inspect/inspect.ts';
import { createTemplateWriter } from '../prompts/template-writer.ts';
import type { Answer, Judge, Question } from '../types.ts';
import { type AttemptRecord, type GateInput, type GateProgress, type GenerateOne, runGate } from './loop.ts';
import { evaluate } from './score.ts';

const q = (id: string, text: string, extra: Partial<Question> = {}): Question => ({
  id,
  text,
  expected: 'yes',
  category: 'background',
  critical: false,
  fixHint: `fix ${id}`,
  source: 'rubric',
  ...extra,
});

const sketchGenerate: GenerateOne<string> = async ({ prompt, negativePrompt }) => {
  const img = await renderSketch({
    prompt,
    negativePrompt,
    width: 256,
    height: 256,
    seed: 11,
    format: 'png',
    background: 'opaque',
  });
  return {
    image: { bytes: img.bytes, mediaType: img.mediaType },
    costUsd: 0.04,
    model: 'pixel/sketch',
    ref: prompt,
  };
};

function memoryStore() {
  const stored: AttemptRecord<string>[] = [];
  return {
    stored,
    store: async (a: AttemptRecord<string>) => {
      stored.push(a);
      return { imageId: `img_${stored.length}` };
    },
  };
}

/** A judge answering from a per-round script: round n uses script[n-1] (last repeats). */
function scripted(script: Array<Record<string, Answer['answer']>>, cost = 0.01): Judge & { calls: number } {
  const judge = {
    id: 'test/judge',
    family: 'test',
    calls: 0,
    async judge(request: { questions: readonly Question[] }) {
      const table = script[Math.min(judge.calls, script.length - 1)]!;
      judge.calls++;
      return {
        answers: request.questions.map(
          (question): Answer => ({
            questionId: question.id,
            answer: table[question.id] ?? 'unsure',
            pYes: table[question.id] === 'yes' ? 0.9 : table[question.id] === 'no' ? 0.1 : null,
            path: table[question.id] === undefined || table[question.id] === 'unsure' ? 'none' : 'prompted',
            judge: 'test/judge',
          }),
        ),
        costUsd: cost,
        judges: ['test/judge'],
      };
    },
  };
  return judge;
}

const brief = (basePrompt: string): GateInput['brief'] => ({
  app: 'produce',
  appDescription: 'produce',
  vars: {},
  basePrompt,
  fewShots: [],
});

const policy = { threshold: 0.8, maxRounds: 3, budgetUsd: 1, unsure: 'ignore' as const };

describe('the quality loop', () => {
  it('passes at once and stops', async () => {
    const mem = memoryStore();
    const judge = scripted([{ a: 'yes', b: 'yes' }]);
    const r = await runGate(
      { brief: brief('three red apples'), questions: [q('a', 'A?'), q('b', 'B?')], policy },
      { generate: sketchGenerate, store: mem.store, judge, writer: createTemplateWriter() },
    );
    expect(r.verdict).toMatchObject({ status: 'passed', score: 1, round: 1, stopReason: 'passed' });
    expect(r.rounds).toHaveLength(1);
    expect(mem.stored[0]).toMatchObject({
      round: 1,
      writer: 'template',
      model: 'pixel/sketch',
      costUsd: { image: 0.04, judge: 0.01, writer: 0, total: 0.05 },
    });
    expect(mem.stored[0]!.parentId).toBeUndefined();
  });

  it('closes the loop offline: the template misses the white background, pixel/inspect fails round 1, the fix hint passes round 2', async () => {
    const mem = memoryStore();
    const progress: GateProgress[] = [];
    const questions = [
      q('background', 'Is the background plain white?', {
        critical: true,
        fixHint: 'Show it on a plain white background.',
      }),
      q('centred', 'Is the produce centred with space around it?'),
      q('subject', 'Does the image show three red apples?', { category: 'subject' }),
    ];
    const r = await runGate(
      { brief: brief('Three red apples, studio product photograph'), questions, policy },
      {
        generate: sketchGenerate,
        store: mem.store,
        judge: createInspectJudge(),
        writer: createTemplateWriter(),
        onProgress: (e) => progress.push(e),
      },
    );
    expect(r.rounds.map((x) => [x.round, x.status, x.writer])).toEqual([
      [1, 'failed', 'template'],
      [2, 'passed', 'template+fix-hints'],
    ]);
    expect(r.rounds[0]!.failed).toEqual(['background']);
    expect(r.rounds[0]!.reasons[0]).toMatch(/critical questions not met: background/);
    expect(r.rounds[1]!.prompt).toBe(
      'Three red apples, studio product photograph. Show it on a plain white background.',
    );
    expect(r.rounds[1]!.answers.find((a) => a.questionId === 'subject')!.answer).toBe('unsure');
    expect(r.best.round).toBe(2);
    expect(r.verdict).toMatchObject({ status: 'passed', stopReason: 'passed', round: 2 });
    expect(mem.stored[1]!.parentId).toBe('img_1');
    expect(progress.filter((e) => e.stage === 'judging').map((e) => e.round)).toEqual([1, 2]);
  });

  it('keeps the best image when the rounds run out, with a failed verdict', async () => {
    const mem = memoryStore();
    const judge = scripted([
      { a: 'no', b: 'no' },
      { a: 'yes', b: 'no' },
      { a: 'no', b: 'no' },
    ]);
    const r = await runGate(
      { brief: brief('p'), questions: [q('a', 'A?'), q('b', 'B?')], policy },
      { generate: sketchGenerate, store: mem.store, judge, writer: createTemplateWriter() },
    );
    expect(r.rounds.map((x) => x.score)).toEqual([0, 0.5, 0]);
    expect(r.best.round).toBe(2);
    expect(r.verdict).toMatchObject({ status: 'failed', score: 0.5, stopReason: 'max_rounds' });
    expect(mem.stored.map((s) => s.parentId)).toEqual([undefined, 'img_1', 'img_2']);
  });

  it('stops when the budget cannot pay for another round like the last', async () => {
    const judge = scripted([{ a: 'no' }], 0.06);
    const r = await runGate(
      { brief: brief('p'), questions: [q('a', 'A?')], policy: { ...policy, maxRounds: 5, budgetUsd: 0.25 } },
      { generate: sketchGenerate, store: memoryStore().store, judge, writer: createTemplateWriter() },
    );
    // each round costs 0.04 + 0.06 = 0.10: two fit in 0.25, a third would not
    expect(r.rounds).toHaveLength(2);
    expect(r.spentUsd).toBeCloseTo(0.2, 12);
    expect(r.verdict).toMatchObject({ status: 'failed', stopReason: 'budget' });
  });

  it('handles unsure per policy', async () => {
    const questions = [q('a', 'A?', { critical: true }), q('b', 'B?'), q('c', 'C?')];
    const answers = (v: Record<string, Answer['answer']>) =>
      questions.map(
        (x): Answer => ({ questionId: x.id, answer: v[x.id]!, pYes: null, path: 'none', judge: 'j' }),
      );
    const some = answers({ a: 'yes', b: 'yes', c: 'unsure' });
    expect(evaluate(questions, some, 0.8, 'ignore')).toMatchObject({
      status: 'passed',
      score: 1,
      unsure: ['c'],
    });
    expect(evaluate(questions, some, 0.8, 'fail')).toMatchObject({ status: 'failed', score: 2 / 3 });
    expect(evaluate(questions, some, 0.8, 'review')).toMatchObject({ status: 'needs_review', passed: true });
    const criticalUnsure = answers({ a: 'unsure', b: 'yes', c: 'yes' });
    expect(evaluate(questions, criticalUnsure, 0.8, 'fail').criticalFailed).toEqual(['a']);
    expect(evaluate(questions, criticalUnsure, 0.8, 'ignore').status).toBe('passed');
    const nothing = answers({ a: 'unsure', b: 'unsure', c: 'unsure' });
    expect(evaluate(questions, nothing, 0.8, 'ignore')).toMatchObject({ status: 'failed', score: null });
  });

  it('skips a question whose parent did not match (DSG dependencies)', () => {
    const questions = [
      q('apple', 'Is there an apple?'),
      q('red', 'Is the apple red?', { dependsOn: 'apple' }),
      q('shiny', 'Is it shiny?', { dependsOn: 'red' }),
    ];
    const answers: Answer[] = [
      { questionId: 'apple', answer: 'no', pYes: 0.1, path: 'prompted', judge: 'j' },
      { questionId: 'red', answer: 'yes', pYes: 0.9, path: 'prompted', judge: 'j' },
      { questionId: 'shiny', answer: 'yes', pYes: 0.9, path: 'prompted', judge: 'j' },
    ];
    const e = evaluate(questions, answers, 0.5, 'ignore');
    expect(e.skipped).toEqual(['red', 'shiny']);
    expect(e.score).toBe(0);
    expect(e.answers[1]!.skipped).toBe(true);
  });

  it('stores a judge error as a failed attempt and stops: never a pass', async () => {
    const mem = memoryStore();
    const broken: Judge = {
      id: 'openai/gpt-4.1-mini',
      family: 'openai',
      judge: async () => {
        throw new PixelError({
          code: 'internal',
          reason: 'malformed_response',
          field: 'judge',
          message: 'judge openai/gpt-4.1-mini returned malformed output',
        });
      },
    };
    const r = await runGate(
      { brief: brief('p'), questions: [q('a', 'A?')], policy },
      { generate: sketchGenerate, store: mem.store, judge: broken, writer: createTemplateWriter() },
    );
    expect(r.verdict).toMatchObject({ status: 'failed', stopReason: 'judge_error' });
    expect(r.rounds[0]!.judgeError).toMatchObject({ reason: 'malformed_response' });
    expect(mem.stored[0]!.judgeError?.reason).toBe('malformed_response');
  });

  it('cancels mid-loop through the signal', async () => {
    const controller = new AbortController();
    const mem = memoryStore();
    const judge = scripted([{ a: 'no' }]);
    const generate: GenerateOne<string> = async (input) => {
      if (input.round === 2) controller.abort();
      return sketchGenerate(input);
    };
    await expect(
      runGate(
        { brief: brief('p'), questions: [q('a', 'A?')], policy, signal: controller.signal },
        { generate, store: mem.store, judge, writer: createTemplateWriter() },
      ),
    ).rejects.toMatchObject({ code: 'cancelled' });
    expect(mem.stored).toHaveLength(1);
    expect(judge.calls).toBe(1);
  });

  it('refuses a bad policy naming the field', async () => {
    await expect(
      runGate(
        { brief: brief('p'), questions: [], policy: { ...policy, maxRounds: 0 } },
        {
          generate: sketchGenerate,
          store: memoryStore().store,
          judge: scripted([{}]),
          writer: createTemplateWriter(),
        },
      ),
    ).rejects.toMatchObject({ field: 'gate.maxRounds' });
  });
});
