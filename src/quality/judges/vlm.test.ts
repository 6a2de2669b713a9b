import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JudgeImage, Question } from '../types.ts';
import { FAKE_ANTHROPIC_KEY, startFakeAnthropicJudge } from './fakes/anthropic.ts';
import type { FakeJudgeServer } from './fakes/brain.ts';
import { FAKE_GOOGLE_KEY, startFakeGeminiJudge } from './fakes/gemini.ts';
import { type FakeOllamaJudge, startFakeOllamaJudge } from './fakes/ollama.ts';
import { FAKE_OPENAI_KEY, type FakeOpenAiJudge, startFakeOpenAiJudge } from './fakes/openai.ts';
import { answerProbabilities } from './logprobs.ts';
import { createVlmJudge } from './vlm.ts';

const questions: Question[] = [
  {
    id: 'subject',
    text: 'Does the image show a raw ribeye steak?',
    expected: 'yes',
    category: 'subject',
    critical: true,
    fixHint: 'x',
    source: 'rubric',
  },
  {
    id: 'no-text',
    text: 'Is there any text in the image?',
    expected: 'no',
    category: 'text',
    critical: true,
    fixHint: 'x',
    source: 'rubric',
  },
  {
    id: 'lighting',
    text: 'Is the lighting soft?',
    expected: 'yes',
    category: 'attribute',
    critical: false,
    fixHint: 'x',
    source: 'rubric',
  },
];
const beliefs: Record<string, number> = { subject: 0.93, 'no-text': 0.08, lighting: 0.7 };

let image: JudgeImage;
let openai: FakeOpenAiJudge;
let anthropic: FakeJudgeServer;
let gemini: FakeJudgeServer;
let ollama: FakeOllamaJudge;

beforeAll(async () => {
  const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#c83232' } })
    .png()
    .toBuffer();
  image = { bytes: new Uint8Array(png), mediaType: 'image/png' };
  [openai, anthropic, gemini, ollama] = await Promise.all([
    startFakeOpenAiJudge(),
    startFakeAnthropicJudge(),
    startFakeGeminiJudge(),
    startFakeOllamaJudge(),
  ]);
  for (const f of [openai, anthropic, gemini, ollama]) f.brain.pYes = (id) => beliefs[id] ?? 0.5;
});
afterAll(async () => {
  await Promise.all([openai, anthropic, gemini, ollama].map((f) => f?.close()));
});

const judges = () => ({
  openai: createVlmJudge({
    model: 'openai/gpt-4.1-mini',
    connection: { apiKey: FAKE_OPENAI_KEY, baseURL: openai.baseURL },
    maxRetries: 0,
  }),
  anthropic: createVlmJudge({
    model: 'anthropic/claude-haiku-4-5',
    connection: { apiKey: FAKE_ANTHROPIC_KEY, baseURL: anthropic.baseURL },
    maxRetries: 0,
  }),
  google: createVlmJudge({
    model: 'google/gemini-2.5-flash',
    connection: { apiKey: FAKE_GOOGLE_KEY, baseURL: gemini.baseURL },
    maxRetries: 0,
  }),
  ollama: createVlmJudge({ model: 'ollama/llava', connection: { baseURL: ollama.baseURL }, maxRetries: 0 }),
});
const fakeOf = (name: string): FakeJudgeServer =>
  ({ openai, anthropic, google: gemini, ollama })[name as 'openai']!;

describe('P(yes) from token logprobs', () => {
  it('normalises yes against no at the answer token (hand-computed)', () => {
    // p(yes) = e^-0.2 = 0.818731, p(no) = e^-1.8 = 0.165299 → 0.818731 / 0.984030 = 0.832018
    const tokens = [
      { token: '{"answers":[{"id":"', logprob: 0, top_logprobs: [] },
      { token: 'a', logprob: 0, top_logprobs: [] },
      { token: '","answer":"', logprob: 0, top_logprobs: [] },
      {
        token: 'yes',
        logprob: -0.2,
        top_logprobs: [
          { token: 'yes', logprob: -0.2 },
          { token: 'no', logprob: -1.8 },
          { token: 'maybe', logprob: -4 },
        ],
      },
      { token: '"}]}', logprob: 0, top_logprobs: [] },
    ];
    const [p] = answerProbabilities(tokens);
    expect(p).toBeCloseTo(Math.exp(-0.2) / (Math.exp(-0.2) + Math.exp(-1.8)), 12);
    expect(p).toBeCloseTo(0.832018, 6);
  });

  it('reads P(yes) for every question from the OpenAI chat completion logprobs', async () => {
    openai.behaviour = 'answer';
    openai.logprobs = (id) => (id === 'lighting' ? { yes: -0.2, no: -1.8 } : undefined);
    const result = await judges().openai.judge({ image, questions });
    openai.logprobs = undefined;
    expect(result.answers.map((a) => [a.questionId, a.answer, a.path])).toEqual([
      ['subject', 'yes', 'logprobs'],
      ['no-text', 'no', 'logprobs'],
      ['lighting', 'yes', 'logprobs'],
    ]);
    // the fake also offers "Yes" at logprob -12, which counts as yes: hence 5 digits
    expect(result.answers[0]!.pYes).toBeCloseTo(0.93, 5);
    // alternatives sent: yes -0.2, no -1.8, Yes -12 (counts as yes), maybe -14, unsure -15 (neither)
    const e = Math.exp;
    expect(result.answers[2]!.pYes).toBeCloseTo((e(-0.2) + e(-12)) / (e(-0.2) + e(-1.8) + e(-12)), 12);
    // 1200 in at $0.40/M + 60 out at $1.60/M
    expect(result.costUsd).toBeCloseTo((1200 * 0.4 + 60 * 1.6) / 1e6, 12);
    const sent = openai.requests.at(-1)!.body as any;
    expect(sent.logprobs).toBe(true);
    expect(sent.top_logprobs).toBe(5);
    expect(sent.response_format.type).toBe('json_schema');
    expect(JSON.stringify(sent.messages)).toContain('data:image/png;base64,');
  });

  it('uses the native decision probability on an OpenAI decision model', async () => {
    openai.behaviour = 'answer';
    const judge = createVlmJudge({
      model: 'openai/gpt-6-luna',
      connection: { apiKey: FAKE_OPENAI_KEY, baseURL: openai.baseURL },
      maxRetries: 0,
    });
    const result = await judge.judge({ image, questions });
    expect(result.answers.map((a) => [a.answer, a.pYes, a.path])).toEqual([
      ['yes', 0.93, 'native'],
      ['no', 0.08, 'native'],
      ['yes', 0.7, 'native'],
    ]);
    expect(openai.requests.at(-1)!.path).toBe('/v1/decisions');
    openai.behaviour = 'refuse';
    await expect(judge.judge({ image, questions })).rejects.toMatchObject({ reason: 'content_moderated' });
    openai.behaviour = 'partial';
    await expect(judge.judge({ image, questions })).rejects.toMatchObject({ reason: 'malformed_response' });
    openai.behaviour = 'answer';
  });
});

describe.each(['openai', 'anthropic', 'google', 'ollama'])('%s judge against its fake API', (name) => {
  const judge = () => judges()[name as 'openai'];

  it('answers all questions in one call with the image, recording the path', async () => {
    const fake = fakeOf(name);
    fake.behaviour = 'answer';
    const before = fake.requests.length;
    const result = await judge().judge({ image, questions });
    expect(fake.requests.length - before).toBe(1);
    expect(result.answers.map((a) => a.answer)).toEqual(['yes', 'no', 'yes']);
    const path = name === 'openai' ? 'logprobs' : 'prompted';
    expect(result.answers.every((a) => a.path === path && a.judge === judge().id)).toBe(true);
    expect(result.answers[1]!.pYes).toBeCloseTo(0.08, 4);
    const sent = JSON.stringify(fake.requests.at(-1)!.body);
    expect(sent).toContain(Buffer.from(image.bytes).toString('base64'));
    expect(sent).toContain('Does the image show a raw ribeye steak?');
  });

  it('treats a refusal as a judge error, never a pass', async () => {
    const fake = fakeOf(name);
    fake.behaviour = 'refuse';
    // Ollama has no refusal signal: the prose it writes instead is malformed output.
    await expect(judge().judge({ image, questions })).rejects.toMatchObject(
      name === 'ollama'
        ? { reason: 'malformed_response', field: 'judge' }
        : { reason: 'content_moderated', code: 'failed_precondition' },
    );
    fake.behaviour = 'answer';
  });

  it('treats malformed and partial output as judge errors', async () => {
    const fake = fakeOf(name);
    fake.behaviour = 'malformed';
    await expect(judge().judge({ image, questions })).rejects.toMatchObject({ reason: 'malformed_response' });
    fake.behaviour = 'partial';
    await expect(judge().judge({ image, questions })).rejects.toThrow(
      /partial answer: no answer for lighting/,
    );
    fake.behaviour = 'answer';
  });

  it('maps HTTP errors onto PixelError codes', async () => {
    const fake = fakeOf(name);
    fake.behaviour = { status: 429 };
    await expect(judge().judge({ image, questions })).rejects.toMatchObject({
      code: 'resource_exhausted',
      providerStatus: 429,
    });
    fake.behaviour = 'answer';
  });
});

describe('judge credentials and models', () => {
  it('reports a wrong key as unauthenticated and an unknown Ollama model as an error', async () => {
    const bad = createVlmJudge({
      model: 'openai/gpt-4.1-mini',
      connection: { apiKey: 'sk-wrong-key-123456', baseURL: openai.baseURL },
      maxRetries: 0,
    });
    await expect(bad.judge({ image, questions })).rejects.toMatchObject({ code: 'unauthenticated' });
    const missing = createVlmJudge({
      model: 'ollama/not-pulled',
      connection: { baseURL: ollama.baseURL },
      maxRetries: 0,
    });
    await expect(missing.judge({ image, questions })).rejects.toMatchObject({ providerStatus: 404 });
    await expect(
      createVlmJudge({ model: 'openai/gpt-4.1-mini', connection: {} }).judge({ image, questions }),
    ).rejects.toMatchObject({
      code: 'failed_precondition',
      reason: 'auth',
    });
  });
});
