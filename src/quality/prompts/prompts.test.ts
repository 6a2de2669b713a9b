import { describe, expect, it } from 'vitest';
import { scriptedModel } from '../testing/mock-model.ts';
import type { Answer, Question } from '../types.ts';
import { createLlmPromptWriter, renderBrief } from './llm-writer.ts';
import { createTemplateWriter } from './template-writer.ts';
import type { PromptBrief } from './types.ts';

const question = (id: string, fixHint: string, critical = false): Question => ({
  id,
  text: `Is ${id} right?`,
  expected: 'yes',
  category: 'background',
  critical,
  fixHint,
  source: 'rubric',
});
const no = (id: string): Answer => ({
  questionId: id,
  answer: 'no',
  pYes: 0.1,
  path: 'pixels',
  judge: 'pixel/inspect',
});

const brief = (history: PromptBrief['history'] = []): PromptBrief => ({
  app: 'produce',
  appDescription: 'fresh produce on white',
  vars: { item: 'apples', count: 'three' },
  basePrompt: 'Three red apples on a wooden table',
  baseNegativePrompt: 'text, logo',
  fewShots: [
    { vars: { item: 'pears' }, prompt: 'Two green pears on a plain white background', note: 'plain white' },
  ],
  history,
});

describe('template prompt writer', () => {
  it('renders the template on round 1 and adds failed questions’ fix hints on refinement, each once', async () => {
    const writer = createTemplateWriter();
    expect(await writer.write(brief())).toEqual({
      prompt: 'Three red apples on a wooden table',
      negativePrompt: 'text, logo',
      writer: 'template',
      costUsd: 0,
    });
    const bg = question('background', 'Ask for a plain white background');
    const centred = question('centred', 'Centre the produce with space around it.');
    const refined = await writer.write(
      brief([
        { round: 1, prompt: 'p1', score: 0.5, failed: [{ question: bg, answer: no('background') }] },
        {
          round: 2,
          prompt: 'p2',
          score: 0.7,
          failed: [
            { question: bg, answer: no('background') },
            { question: centred, answer: no('centred') },
          ],
        },
      ]),
    );
    expect(refined.prompt).toBe(
      'Three red apples on a wooden table. Ask for a plain white background. Centre the produce with space around it.',
    );
    expect(refined.writer).toBe('template+fix-hints');
  });
});

describe('LLM prompt writer', () => {
  it('sends few-shots and earlier prompts with scores and failed questions, and returns the structured prompt', async () => {
    const scripted = scriptedModel([
      JSON.stringify({ prompt: 'Three red apples on a plain white background', negativePrompt: null }),
    ]);
    const writer = createLlmPromptWriter(scripted.model, 'anthropic/claude-haiku-4-5', {
      inputPerMTok: 1,
      outputPerMTok: 5,
    });
    const bg = question('background', 'Ask for a plain white background', true);
    const out = await writer.write(
      brief([
        {
          round: 1,
          prompt: 'Three red apples on a wooden table',
          score: 0.5,
          failed: [{ question: bg, answer: no('background') }],
        },
      ]),
    );
    expect(out).toEqual({
      prompt: 'Three red apples on a plain white background',
      negativePrompt: 'text, logo',
      writer: 'anthropic/claude-haiku-4-5',
      costUsd: (100 * 1 + 50 * 5) / 1_000_000,
    });
    const sent = JSON.stringify(scripted.prompts[0]);
    expect(sent).toContain('Two green pears on a plain white background');
    expect(sent).toContain('Attempt 1 (score 0.50): Three red apples on a wooden table');
    expect(sent).toContain('expected yes, judged no (critical); fix: Ask for a plain white background');
  });

  it('turns malformed or empty output into a writer error', async () => {
    await expect(
      createLlmPromptWriter(scriptedModel(['{"nope": 1}']).model, 'w').write(brief()),
    ).rejects.toMatchObject({
      reason: 'malformed_response',
      field: 'promptWriter',
    });
    await expect(
      createLlmPromptWriter(
        scriptedModel([JSON.stringify({ prompt: '  ', negativePrompt: null })]).model,
        'w',
      ).write(brief()),
    ).rejects.toMatchObject({ reason: 'malformed_response' });
    expect(renderBrief(brief())).toMatch(/Write the prompt\.$/);
  });
});
