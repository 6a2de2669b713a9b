import { APPS_DIR, loadApplicationFiles } from '../src/apps/load.ts';
import { renderTemplate } from '../src/apps/template.ts';
import { createInspectJudge } from '../src/quality/inspect/inspect.ts';
import { createVlmJudge } from '../src/quality/judges/vlm.ts';
import { runGate } from '../src/quality/loop/loop.ts';
import { createTemplateWriter } from '../src/quality/prompts/template-writer.ts';
import { rubricQuestions } from '../src/quality/questions/rubric.ts';
import type { Answer, Judge, Question } from '../src/quality/types.ts';
import { renderSketch } from '../src/sketch/render.ts';
import { type BenchSection, percentile, round } from './types.ts';

const QUESTIONS = 20;
const GATES = 300;
const ROUNDS = 3;
const FLOOR_MS = 5;

/** Loop overhead: everything a round does except the models (writer, image model and judge answer at once). */
async function loopOverhead(): Promise<{ perRound: number[]; rounds: number }> {
  const image = await renderSketch({
    prompt: 'an apple',
    width: 64,
    height: 64,
    seed: 1,
    format: 'png',
    background: 'opaque',
  });
  const questions: Question[] = Array.from({ length: QUESTIONS }, (_, i) => ({
    id: `q${i}`,
    text: `Is requirement ${i} met?`,
    expected: i % 3 === 0 ? 'no' : 'yes',
    category: 'attribute',
    critical: i < 4,
    ...(i >= 10 ? { dependsOn: `q${i - 10}` } : {}),
    fixHint: `Fix requirement ${i}.`,
    source: 'rubric',
  }));
  // Always two misses, so every gate runs all its rounds.
  const answers: Answer[] = questions.map((q, i) => ({
    questionId: q.id,
    answer: i === 5 || i === 6 ? (q.expected === 'yes' ? 'no' : 'yes') : q.expected,
    pYes: 0.9,
    path: 'prompted',
    judge: 'bench/instant',
  }));
  const judge: Judge = {
    id: 'bench/instant',
    family: 'bench',
    judge: async () => ({ answers, costUsd: 0, judges: ['bench/instant'] }),
  };
  const writer = createTemplateWriter();
  const perRound: number[] = [];
  let stored = 0;
  for (let g = 0; g < GATES; g++) {
    const started = performance.now();
    const result = await runGate(
      {
        brief: {
          app: 'bench',
          appDescription: 'bench',
          vars: {},
          basePrompt: 'three red apples on a white background',
          fewShots: [],
        },
        questions,
        policy: { threshold: 0.95, maxRounds: ROUNDS, budgetUsd: 1, unsure: 'ignore' },
      },
      {
        judge,
        writer,
        generate: async () => ({
          image: { bytes: image.bytes, mediaType: image.mediaType },
          costUsd: 0,
          model: 'bench/instant',
        }),
        store: async () => ({ imageId: `img_${stored++}` }),
      },
    );
    perRound.push((performance.now() - started) / result.rounds.length);
  }
  return { perRound: perRound.sort((a, b) => a - b), rounds: GATES * ROUNDS };
}

/** For each shipped application: how many of its rubric questions pixel/inspect settles on a sketch of the item. */
async function inspectShare() {
  const { apps } = loadApplicationFiles(APPS_DIR);
  const inspect = createInspectJudge();
  const paid = createVlmJudge({ model: 'openai/gpt-4.1-mini', connection: { apiKey: 'unused' } });
  const rows: Array<Record<string, string | number>> = [];
  let total = 0;
  let answered = 0;
  let inspectMs = 0;
  for (const { profile } of apps) {
    const vars: Record<string, string> = {};
    for (const [name, v] of Object.entries(profile.variables)) vars[name] = v.example ?? v.default ?? name;
    const prompt = renderTemplate(profile.template, vars).text;
    const image = await renderSketch({
      prompt,
      width: 512,
      height: 512,
      seed: 7,
      format: 'png',
      background: 'opaque',
    });
    const questions = rubricQuestions(profile.rubric, vars);
    const started = performance.now();
    const result = await inspect.judge({
      image: { bytes: image.bytes, mediaType: image.mediaType },
      questions,
    });
    inspectMs += performance.now() - started;
    const settled = result.answers.filter((a) => a.answer !== 'unsure');
    total += questions.length;
    answered += settled.length;
    rows.push({
      measure: `pixel/inspect answered: ${profile.name}`,
      value: `${settled.length} / ${questions.length} (${Math.round((100 * settled.length) / Math.max(1, questions.length))}%)`,
      detail: settled.map((a) => `${a.questionId}=${a.answer}`).join(', ') || '-',
    });
  }
  const saved = paid.estimateCostUsd(total) - paid.estimateCostUsd(total - answered);
  return { rows, total, answered, inspectMs: inspectMs / Math.max(1, apps.length), saved, apps: apps.length };
}

export async function bench(): Promise<BenchSection> {
  const loop = await loopOverhead();
  const share = await inspectShare();
  const p50 = percentile(loop.perRound, 50);
  const p95 = percentile(loop.perRound, 95);
  return {
    title: `Quality gate: loop overhead per round (${QUESTIONS} questions, models excluded) and the cascade's offline share`,
    rows: [
      {
        measure: `loop overhead per round, p50 (${loop.rounds} rounds)`,
        value: `${round(p50, 3)} ms`,
        detail: `floor ≤ ${FLOOR_MS} ms: ${p50 <= FLOOR_MS ? 'met' : 'NOT met'}`,
      },
      { measure: 'loop overhead per round, p95', value: `${round(p95, 3)} ms`, detail: '' },
      ...share.rows,
      {
        measure: 'pixel/inspect answered, all shipped apps',
        value: `${share.answered} / ${share.total} (${Math.round((100 * share.answered) / Math.max(1, share.total))}%)`,
        detail: `cascade saving vs openai/gpt-4.1-mini alone, one image per app: ~$${share.saved.toFixed(5)} (estimate)`,
      },
      {
        measure: 'pixel/inspect time per image (512×512)',
        value: `${round(share.inspectMs, 1)} ms`,
        detail: 'decode, measure, answer',
      },
    ],
    notes: [
      'Overhead: the refinement loop with a prompt writer, image model and judge that answer at once (template writer, rubric scoring with dependencies, best-so-far, storage callback); the time of real models is excluded.',
      'Offline share: each shipped application rendered with its example variables through pixel/sketch; pixel/inspect answers only questions about background, position, fill, blur, brightness, aspect and colour, and says unsure to the rest.',
    ],
  };
}
