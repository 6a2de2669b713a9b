import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RubricQuestion } from '../../apps/schema.ts';
import { type Db, openDatabase } from '../../catalog/db.ts';
import { scriptedModel } from '../testing/mock-model.ts';
import type { Question } from '../types.ts';
import { createLlmQuestionWriter } from './llm-writer.ts';
import { mergeQuestions } from './merge.ts';
import { questionsFor } from './questions.ts';
import { rubricQuestions } from './rubric.ts';
import { itemKey, QuestionStore } from './store.ts';
import { validateQuestions } from './validate.ts';

const rubric: RubricQuestion[] = [
  {
    id: 'subject',
    question: 'Does the image show a raw {{cut}}?',
    expected: 'yes',
    category: 'subject',
    critical: true,
    fixHint: 'Name the cut.',
  },
  {
    id: 'lighting',
    question: 'Is the lighting soft?',
    expected: 'yes',
    category: 'lighting',
    critical: false,
    fixHint: 'Soft light.',
  },
  {
    id: 'no-people',
    question: 'Is any human face visible?',
    expected: 'no',
    category: 'safety',
    critical: true,
    fixHint: 'No people.',
  },
];

const q = (id: string, extra: Partial<Question> = {}): Question => ({
  id,
  text: `Question ${id}?`,
  expected: 'yes',
  category: 'subject',
  critical: false,
  fixHint: 'hint',
  source: 'llm',
  ...extra,
});

describe('rubric questions', () => {
  it('renders the rubric with the item and maps categories onto the closed set', () => {
    const out = rubricQuestions(rubric, { cut: 'ribeye steak' });
    expect(out.map((x) => [x.id, x.text, x.category, x.critical, x.source])).toEqual([
      ['subject', 'Does the image show a raw ribeye steak?', 'subject', true, 'rubric'],
      ['lighting', 'Is the lighting soft?', 'attribute', false, 'rubric'],
      ['no-people', 'Is any human face visible?', 'forbidden', true, 'rubric'],
    ]);
  });

  it('names every missing variable', () => {
    expect(() => rubricQuestions(rubric, {})).toThrow(/missing template variable: cut/);
  });
});

describe('question set validation', () => {
  it('refuses duplicate ids, unknown parents and cycles, naming the field', () => {
    expect(() => validateQuestions([q('a'), q('a')])).toThrow(/questions\[1\]\.id "a" is used twice/);
    expect(() => validateQuestions([q('a', { dependsOn: 'zz' })])).toThrow(
      /questions\[0\]\.dependsOn names "zz"/,
    );
    expect(() => validateQuestions([q('a', { dependsOn: 'b' }), q('b', { dependsOn: 'a' })])).toThrow(
      /dependency cycle/,
    );
    expect(() => validateQuestions([q('a', { category: 'lighting' as never })])).toThrow(
      /questions\[0\]\.category/,
    );
    expect(validateQuestions([q('a'), q('b', { dependsOn: 'a' })])[1]!.dependsOn).toBe('a');
  });
});

describe('merging', () => {
  it('keeps the rubric first, drops written duplicates, renames clashing ids and re-points dependencies', () => {
    const base = rubricQuestions(rubric, { cut: 'ribeye steak' });
    const written = [
      q('dup', { text: 'Does the image show a RAW ribeye steak' }),
      q('subject', { text: 'Is there marbling?', dependsOn: 'dup' }),
      q('fat', { text: 'Is the fat cap visible?', dependsOn: 'subject' }),
    ];
    const merged = mergeQuestions(base, written);
    expect(merged.map((x) => x.id)).toEqual(['subject', 'lighting', 'no-people', 'llm-subject', 'fat']);
    expect(merged[3]!.dependsOn).toBe('subject');
    expect(merged[4]!.dependsOn).toBe('llm-subject');
  });
});

describe('LLM question writer', () => {
  const answer = {
    questions: [
      {
        id: 'Steak Present',
        text: 'Is there a steak?',
        expected: 'yes',
        category: 'subject',
        critical: true,
        dependsOn: null,
        fixHint: 'Name it.',
      },
      {
        id: 'marbling',
        text: 'Is white marbling visible in the steak?',
        expected: 'yes',
        category: 'attribute',
        critical: false,
        dependsOn: 'steak-present',
        fixHint: 'Describe marbling.',
      },
      {
        id: 'sauce',
        text: 'Is there any sauce?',
        expected: 'no',
        category: 'forbidden',
        critical: false,
        dependsOn: null,
        fixHint: 'Say no sauce.',
      },
    ],
  };

  it('writes atomic questions through structured output, with dependencies', async () => {
    const { model, prompts } = scriptedModel([JSON.stringify(answer)]);
    const writer = createLlmQuestionWriter(model, 'openai/gpt-4.1-mini');
    const out = await writer.write({
      app: 'butcher-cuts',
      appDescription: 'raw cuts',
      vars: { cut: 'ribeye steak' },
      prompt: 'a raw ribeye steak',
      rubric: rubricQuestions(rubric, { cut: 'ribeye steak' }),
    });
    expect(out.map((x) => [x.id, x.dependsOn, x.source])).toEqual([
      ['steak-present', undefined, 'llm'],
      ['marbling', 'steak-present', 'llm'],
      ['sauce', undefined, 'llm'],
    ]);
    expect(JSON.stringify(prompts[0])).toContain('Does the image show a raw ribeye steak?');
  });

  it('treats malformed output and a dangling dependency as writer errors', async () => {
    const brief = { app: 'a', appDescription: 'd', vars: {}, prompt: 'p', rubric: [] };
    await expect(
      createLlmQuestionWriter(scriptedModel(['not json']).model, 'w').write(brief),
    ).rejects.toMatchObject({
      reason: 'malformed_response',
      field: 'questionWriter',
    });
    const dangling = { questions: [{ ...answer.questions[1]!, dependsOn: 'nothing' }] };
    await expect(
      createLlmQuestionWriter(scriptedModel([JSON.stringify(dangling)]).model, 'w').write(brief),
    ).rejects.toMatchObject({ reason: 'malformed_response' });
  });
});

describe('question cache in the catalogue', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openDatabase({ memory: true });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('caches per application version and item, and serves the cache without calling the writer', async () => {
    const store = new QuestionStore(db);
    const written = {
      questions: [
        {
          id: 'fat',
          text: 'Is the fat cap visible?',
          expected: 'yes',
          category: 'attribute',
          critical: false,
          dependsOn: null,
          fixHint: 'f',
        },
      ],
    };
    const scripted = scriptedModel([JSON.stringify(written)]);
    const writer = createLlmQuestionWriter(scripted.model, 'openai/gpt-4.1-mini');
    const request = {
      app: 'butcher-cuts',
      appVersion: 3,
      appDescription: 'd',
      vars: { cut: 'ribeye steak' },
      prompt: 'p',
      rubric,
    };
    const first = await questionsFor(request, { store, writer });
    expect(first).toMatchObject({ cached: false, writer: 'rubric+openai/gpt-4.1-mini' });
    expect(first.questions.map((x) => x.id)).toEqual(['subject', 'lighting', 'no-people', 'fat']);
    const second = await questionsFor(request, { store, writer });
    expect(second.cached).toBe(true);
    expect(second.questions).toEqual(first.questions);
    expect(scripted.calls()).toBe(1);
    // Another version or another item is another set.
    const other = await questionsFor({ ...request, appVersion: 4 }, { store });
    expect(other).toMatchObject({ cached: false, writer: 'rubric' });
    expect(itemKey({ b: '1', a: '2' })).toBe(itemKey({ a: '2', b: '1' }));
  });

  it('lets a team member edit a set (never overwritten by the writer) and refuses viewers', async () => {
    const store = new QuestionStore(db);
    const vars = { cut: 'pork chop' };
    const edited = [
      q('subject', { text: 'Does the image show a raw pork chop?', source: 'team', critical: true }),
    ];
    await expect(
      store.edit({ team: 'meat', role: 'viewer' }, 'butcher-cuts', 3, vars, edited),
    ).rejects.toMatchObject({ code: 'permission_denied' });
    const saved = await store.edit(
      { team: 'meat', role: 'member', name: 'ana' },
      'butcher-cuts',
      3,
      vars,
      edited,
    );
    expect(saved).toMatchObject({ writer: 'team', editedBy: 'ana' });
    const served = await questionsFor(
      { app: 'butcher-cuts', appVersion: 3, appDescription: 'd', vars, prompt: 'p', rubric },
      { store },
    );
    expect(served).toMatchObject({ cached: true, writer: 'team' });
    expect(served.questions).toHaveLength(1);
    await expect(
      store.edit({ team: 'meat', role: 'admin' }, 'butcher-cuts', 3, vars, [q('a'), q('a')]),
    ).rejects.toThrow(/used twice/);
  });
});
