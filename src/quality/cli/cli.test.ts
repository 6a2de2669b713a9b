import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_ANTHROPIC_KEY, startFakeAnthropicJudge } from '../judges/fakes/anthropic.ts';
import type { FakeJudgeServer } from '../judges/fakes/brain.ts';

/** The base64 of the image the fake saw second in the first call, i.e. image B (sent second in order A, B). */
function firstOf(fake: FakeJudgeServer, which: 'b'): string {
  const body = fake.requests[0]?.body as {
    messages?: Array<{ content?: Array<{ type: string; source?: { data: string } }> }>;
  };
  const images = (body?.messages?.[0]?.content ?? [])
    .filter((p) => p.type === 'image')
    .map((p) => p.source!.data);
  return which === 'b' ? (images[1] ?? '') : (images[0] ?? '');
}

const MAIN = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));
const DEMO_APPS = fileURLToPath(new URL('../../../examples/quality-gate/apps', import.meta.url));
const ENV = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^(OPENAI|ANTHROPIC|GOOGLE|GEMINI|OLLAMA|PIXEL)_/.test(k)),
);

let dir: string;
let roundIds: string[] = [];
const run = (args: string[], extraEnv: Record<string, string> = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      {
        env: {
          ...ENV,
          PIXEL_DATA_DIR: join(dir, 'data'),
          PIXEL_APPS_DIR: DEMO_APPS,
          PIXEL_QUALITY_REVIEW: 'all',
          ...extraEnv,
        },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pixel-quality-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pixel generate --gate, review and judges', () => {
  it('gates a generation, queues it for review, takes a verdict and reports agreement', async () => {
    const gen = await run(['generate', '--app', 'gate-demo', '--var', 'item=apples', '--gate', '--json']);
    expect(gen.code).toBe(0);
    const out = JSON.parse(gen.stdout) as {
      images: Array<{ id: string }>;
      rounds: Array<{
        round: number;
        prompt: string;
        score: number;
        answers: Array<{ questionId: string; answer: string }>;
      }>;
      verdict: { status: string };
    };
    expect(out.rounds.map((r) => r.score)).toEqual([0.5, 1]);
    expect(out.rounds[1]!.prompt).toContain('plain white background');
    expect(out.rounds[0]!.answers.map((a) => a.questionId)).toEqual(['background', 'centred', 'subject']);
    expect(out.verdict.status).toBe('passed');
    const best = out.images[0]!.id;
    roundIds = (out.rounds as unknown as Array<{ imageId: string }>).map((r) => r.imageId);

    const list = await run(['review', 'list', '--json']);
    expect(
      (JSON.parse(list.stdout) as { items: Array<{ imageId: string }> }).items.map((i) => i.imageId),
    ).toEqual([best]);
    const approve = await run(['review', 'approve', best, '--rating', '5', '--reviewer', 'ana']);
    expect(approve.stdout.trim()).toBe(`approved ${best}`);
    const bad = await run(['review', 'rate', best, '9', '--json']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error.field).toBe('rating');

    const report = await run(['judges', 'report', '--json']);
    const parsed = JSON.parse(report.stdout) as { judges: Array<{ judge: string; images: number }> };
    expect(parsed.judges).toEqual([expect.objectContaining({ judge: 'pixel/inspect', images: 1 })]);

    const noApp = await run(['generate', 'an apple', '--gate', '--json']);
    expect(noApp.code).toBe(2);
    expect(JSON.parse(noApp.stdout).error.field).toBe('gate');
  }, 180_000);

  it('compares two stored images in both orders through a judge (fake Anthropic API)', async () => {
    const fake = await startFakeAnthropicJudge();
    try {
      const [a, b] = roundIds as [string, string];
      // The fake prefers whatever it sees first by 0.1, and image B (round 2) on merit.
      fake.brain.pFirst = (first) => (first === firstOf(fake, 'b') ? 0.7 : 0.3) + 0.1;
      const r = await run(['judges', 'compare', a, b, '--judge', 'anthropic/claude-haiku-4-5', '--json'], {
        ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY,
        ANTHROPIC_BASE_URL: fake.baseURL,
      });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as {
        winner: string;
        pA: number;
        positionBias: number;
        orders: unknown[];
      };
      expect(fake.requests).toHaveLength(2);
      expect(out.orders).toHaveLength(2);
      expect(out.winner).toBe('b');
      // A shown first: 0.3 + 0.1; B shown first: 0.7 + 0.1 → P(A) = (0.4 + 0.2) / 2, bias (0.4 + 0.8) / 2 − 0.5
      expect(out.pA).toBeCloseTo(0.3, 9);
      expect(out.positionBias).toBeCloseTo(0.1, 9);
    } finally {
      await fake.close();
    }
  }, 120_000);

  it('calibrates score columns of a rating file', async () => {
    const file = join(dir, 'ratings.jsonl');
    await writeFile(
      file,
      ['{"h":"yes","s":0.9}', '{"h":"no","s":0.2}', '{"h":"yes","s":0.7}', '{"h":"no","s":0.4}'].join('\n'),
    );
    const r = await run(['judges', 'calibrate', '--ratings', file, '--human', 'h', '--score', 's', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      humanKind: string;
      columns: Array<{ n: number; spearman: number; verdict: { kappa: number } }>;
    };
    expect(out.humanKind).toBe('verdict');
    expect(out.columns[0]).toMatchObject({ n: 4, verdict: { kappa: 1 } });
    expect(out.columns[0]!.spearman).toBeCloseTo(Math.sqrt(0.8), 12);
    const missing = await run([
      'judges',
      'calibrate',
      '--ratings',
      join(dir, 'nope.csv'),
      '--human',
      'h',
      '--score',
      's',
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/ratings: cannot read/);
  }, 60_000);
});
