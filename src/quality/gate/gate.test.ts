import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composePlatform, type Platform } from '../../platform/compose.ts';
import { platformConfigFromEnv } from '../../platform/config.ts';
import { FAKE_OPENAI_KEY, startFakeOpenAiJudge } from '../judges/fakes/openai.ts';
import { ReviewService } from '../review/service.ts';
import { envConnections } from './judge-factory.ts';
import { parseGateOptions } from './options.ts';
import { type GateEvent, QualityGate } from './service.ts';
import { gateResultJson } from './wire.ts';

const DEMO_APPS = fileURLToPath(new URL('../../../examples/quality-gate/apps', import.meta.url));
const caller = { team: 'local', role: 'member' as const };

let dir: string;
let platform: Platform;
let gate: QualityGate;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pixel-gate-'));
  const env = { PIXEL_DATA_DIR: dir };
  platform = await composePlatform(platformConfigFromEnv(env), { env, appsDir: DEMO_APPS });
  gate = new QualityGate({
    images: platform.images,
    resolve: platform.applications.resolver(),
    db: platform.db,
    connections: envConnections({}),
    review: { mode: 'sample', failedSample: 0 },
  });
});
afterAll(async () => {
  await platform?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the quality gate in the embedded profile', () => {
  it('closes the loop offline: round 1 misses the white background under pixel/inspect, round 2 passes through the fix hint', async () => {
    const events: GateEvent[] = [];
    const { result, gate: outcome } = await gate.run(
      { app: 'gate-demo', vars: { item: 'apples' }, gate: true },
      caller,
      { onProgress: (e) => events.push(e) },
    );
    expect(outcome.rounds.map((r) => [r.round, r.status, r.writer])).toEqual([
      [1, 'failed', 'template'],
      [2, 'passed', 'template+fix-hints'],
    ]);
    expect(outcome.rounds[0]!.failed).toEqual(['background']);
    expect(outcome.rounds[1]!.prompt).toBe(
      'three red apples, centred with space around them, studio product photograph. Show the produce on a plain white background.',
    );
    expect(outcome.verdict).toMatchObject({ status: 'passed', round: 2, stopReason: 'passed' });
    expect(outcome.judge).toBe('pixel/inspect');
    expect(outcome.questions).toMatchObject({ writer: 'rubric', cached: false });
    expect(events.filter((e) => e.stage === 'judging').map((e) => ('round' in e ? e.round : 0))).toEqual([
      1, 2,
    ]);

    // Every attempt is a stored image; round 2's parent is round 1; the answer is round 2's image.
    const [first, second] = outcome.rounds;
    expect(result.images[0]!.id).toBe(second!.imageId);
    const row1 = await platform.images.get(first!.imageId, caller);
    const row2 = await platform.images.get(second!.imageId, caller);
    expect(row2.parentId).toBe(first!.imageId);
    expect(row1.application).toBe('gate-demo');
    expect(row2.judge).toMatchObject({
      gate: true,
      round: 2,
      status: 'passed',
      writer: 'template+fix-hints',
      score: 1,
    });
    expect(
      (row1.judge as { answers: Array<{ questionId: string; answer: string }> }).answers.find(
        (a) => a.questionId === 'background',
      )!.answer,
    ).toBe('no');

    // The passed image waits for people; its answers are kept for calibration.
    const queue = await new ReviewService(platform.db).queue({ ...caller, name: 'ana' });
    expect(queue.map((q) => q.imageId)).toEqual([second!.imageId]);
    const answers = await platform.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM quality_answers WHERE image_id = $1',
      [second!.imageId],
    );
    expect(answers[0]!.n).toBe(3);

    // The question set is cached for the item.
    const again = await gate.run(
      { app: 'gate-demo', vars: { item: 'apples' }, gate: { maxRounds: 1 } },
      caller,
    );
    expect(again.gate.questions.cached).toBe(true);
    expect(again.gate.verdict.status).toBe('failed');
  });

  it('takes unsure per policy: with fail, the subject pixel/inspect cannot tell fails every round', async () => {
    const { gate: outcome } = await gate.run(
      { app: 'gate-demo', vars: { item: 'plums' }, gate: { unsure: 'fail', maxRounds: 2 } },
      caller,
    );
    expect(outcome.rounds.map((r) => r.status)).toEqual(['failed', 'failed']);
    expect(outcome.rounds[1]!.reasons[0]).toMatch(/critical questions not met: subject/);
    expect(outcome.verdict).toMatchObject({ status: 'failed', stopReason: 'max_rounds' });
  });

  it('runs a cascade: pixel/inspect settles what it can, the paid judge (a fake OpenAI API) the rest', async () => {
    const fake = await startFakeOpenAiJudge();
    try {
      fake.brain.pYes = () => 0.95;
      const paidGate = new QualityGate({
        images: platform.images,
        resolve: platform.applications.resolver(),
        db: platform.db,
        connections: () => ({ apiKey: FAKE_OPENAI_KEY, baseURL: fake.baseURL }),
        review: { mode: 'passed', failedSample: 0 },
      });
      const { gate: outcome } = await paidGate.run(
        {
          app: 'gate-demo',
          vars: { item: 'cherries' },
          gate: { judge: 'cascade:openai/gpt-4.1-mini', unsure: 'fail' },
        },
        caller,
      );
      expect(outcome.judge).toBe('cascade(pixel/inspect>openai/gpt-4.1-mini)');
      expect(outcome.rounds.map((r) => r.status)).toEqual(['failed', 'passed']);
      for (const r of outcome.rounds) expect(r.cascade).toMatchObject({ answeredOffline: 2, askedPaid: 1 });
      const subject = outcome.rounds[1]!.answers.find((a) => a.questionId === 'subject')!;
      expect(subject).toMatchObject({ answer: 'yes', path: 'logprobs', judge: 'openai/gpt-4.1-mini' });
      expect(fake.requests).toHaveLength(2);
      expect(JSON.stringify(fake.requests[0]!.body)).not.toContain('plain white');
      expect(gateResultJson({ ...outcome, questions: outcome.questions }).rounds).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ cascade: expect.objectContaining({ askedPaid: 1 }) }),
        ]),
      );
    } finally {
      await fake.close();
    }
  });

  it('refuses requests it cannot gate, naming the field', async () => {
    await expect(gate.run({ prompt: 'an apple', gate: true }, caller)).rejects.toMatchObject({
      field: 'gate',
    });
    await expect(gate.run({ app: 'gate-demo', vars: { item: 'pears' }, n: 2 }, caller)).rejects.toMatchObject(
      { field: 'n' },
    );
    await expect(
      gate.run({ app: 'gate-demo', vars: { item: 'pears' } }, { team: 'local', role: 'viewer' }),
    ).rejects.toMatchObject({
      code: 'permission_denied',
    });
    expect(() => parseGateOptions({ unsure: 'maybe' })).toThrow(/gate\.unsure/);
    expect(() => parseGateOptions({ judges: 'x' })).toThrow(/gate/);
    expect(parseGateOptions({ judge: 'pixel/inspect' })).toEqual({ enabled: true, judge: 'pixel/inspect' });
    expect(parseGateOptions(false)).toEqual({ enabled: false });
  });
});
