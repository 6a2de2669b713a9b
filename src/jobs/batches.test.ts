import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetRepo } from '../catalog/datasets.ts';
import { UsageRepo } from '../catalog/usage.ts';
import { parseDataset } from '../datasets/parse.ts';
import { ReviewService } from '../quality/review/service.ts';
import type { Caller } from '../server/image-service.ts';
import { CELL_QUEUE } from './boss.ts';
import { cellKey } from './cell-runner.ts';
import { type JobSystem, startJobSystem } from './system.ts';
import { tempPlatform, waitFor } from './testing.ts';

const caller: Caller = { team: 'grocery', role: 'member' };
const CSV = [
  'external_id,category,item,count',
  'sku-1,fruit,Hass avocado,two',
  'sku-2,fruit,lemon,three',
  'sku-3,vegetable,red onion,one',
  'sku-4,fruit,banana,five',
  'sku-5,fruit',
  'sku-6,vegetable,leek,one',
].join('\n');

let env: Awaited<ReturnType<typeof tempPlatform>>;
let jobs: JobSystem;

beforeAll(async () => {
  env = await tempPlatform();
  jobs = await startJobSystem(env.platform, {
    worker: true,
    workerOptions: { concurrency: 4, pollMs: 100 },
  });
  const parsed = parseDataset(CSV, 'csv');
  expect(parsed.rejected).toEqual([{ line: 6, reason: "expected 4 fields (the header's), got 2" }]);
  await new DatasetRepo(env.platform.db).create({
    team: 'grocery',
    name: 'produce-q4',
    source: 'q4.csv',
    parsed,
  });
}, 60_000);

afterAll(async () => {
  await jobs?.stop(2_000);
  await env?.close();
});

const imageCount = async () =>
  Number((await env.platform.db.query<{ n: string }>('SELECT count(*) AS n FROM images'))[0]!.n);

describe('batches on PGlite in-process', () => {
  it('an experiment of 2 candidates over a first-3 sample runs one job per cell and ranks them', async () => {
    const before = await imageCount();
    const run = await jobs.batches.startExperiment(
      {
        dataset: 'produce-q4',
        application: 'produce',
        candidates: [
          { model: 'pixel/sketch', overrides: {} },
          { model: 'pixel/sketch', overrides: { style: 'flat-vector' } },
        ],
        sample: { mode: 'first', n: 3 },
      },
      caller,
    );
    expect(run.cellCount).toBe(6);
    const done = await waitFor('the experiment to finish', async () => {
      const p = await jobs.batches.progress(run.id, caller);
      return p.state === 'done' && p;
    });
    expect(done).toMatchObject({ total: 6, done: 6, failed: 0, remaining: 0 });
    expect((await imageCount()) - before).toBe(6);
    const cells = await jobs.batches.runs.cells(run.id);
    expect(cells.map((c) => [c.item, c.candidate, c.state, c.imageIds.length])).toEqual([
      [0, 0, 'done', 1],
      [0, 1, 'done', 1],
      [1, 0, 'done', 1],
      [1, 1, 'done', 1],
      [2, 0, 'done', 1],
      [2, 1, 'done', 1],
    ]);
    // The flat-vector candidate's images were made with its override, under the team and application.
    const rows = await env.platform.db.query<{
      team: string;
      application: string;
      params: { style?: string };
    }>('SELECT team, application, params FROM images WHERE id = $1', [cells[1]!.imageIds[0]]);
    expect(rows[0]).toMatchObject({
      team: 'grocery',
      application: 'produce',
      params: { style: 'flat-vector' },
    });
    const report = await jobs.batches.report(run.id, caller);
    expect(report.candidates).toHaveLength(2);
    expect(report.candidates.every((c) => c.n === 3 && c.accepted === 3)).toBe(true);
    expect(report.recommended).not.toBeNull();
    expect(report.recommended!.uncertainty).toMatch(/n = 3 items/);
    expect(report.candidates.every((c) => c.pairwisePreference === null)).toBe(true);

    // Two reviewers compare the candidates' images of the same items (SubmitPreference's use case): the
    // report's pairwise column and its ranking follow (everything else is equal between the two).
    const reviews = new ReviewService(env.platform.db);
    for (const c of cells) {
      await reviews.enqueue(c.imageIds[0]!, { app: 'produce', team: 'grocery', reason: 'all' });
    }
    const image = (item: number, candidate: number) =>
      cells.find((c) => c.item === item && c.candidate === candidate)!.imageIds[0]!;
    const ann = { team: 'grocery', role: 'member', name: 'ann' } as const;
    const bob = { team: 'grocery', role: 'member', name: 'bob' } as const;
    await reviews.prefer(ann, { imageA: image(0, 0), imageB: image(0, 1), preferred: 'b' });
    await reviews.prefer(ann, { imageA: image(1, 1), imageB: image(1, 0), preferred: 'a' });
    await reviews.prefer(bob, { imageA: image(2, 0), imageB: image(2, 1), preferred: 'tie' });
    // Not a comparison of two candidates on one item: left out.
    await reviews.prefer(bob, { imageA: image(0, 0), imageB: image(1, 1), preferred: 'a' });
    const judged = await jobs.batches.report(run.id, caller);
    expect(judged.candidates.map((c) => [c.candidate, c.pairwisePreference, c.pairwiseComparisons])).toEqual([
      [1, 2.5 / 3, 3],
      [0, 0.5 / 3, 3],
    ]);
    expect(judged.recommended!.candidate).toBe(1);
    expect(judged.notes.join('\n')).toMatch(/3 comparisons .* by 2 reviewers or judges/);

    // A duplicated job for a finished cell neither generates nor stores again.
    await jobs.boss.insert(CELL_QUEUE, [{ data: { runId: run.id, item: 0, candidate: 0 } }]);
    await waitFor('the duplicate job to settle', async () => {
      const queue = await jobs.boss.getQueue(CELL_QUEUE);
      return queue !== null && queue.queuedCount === 0 && queue.activeCount === 0;
    });
    expect((await imageCount()) - before).toBe(6);
  });

  it('a seeded random sample picks the same items every time', async () => {
    const a = await jobs.batches.startExperiment(
      {
        dataset: 'produce-q4',
        application: 'produce',
        candidates: [{ model: 'pixel/sketch', overrides: {} }],
        sample: { mode: 'random', n: 2, seed: 42 },
      },
      caller,
    );
    const b = await jobs.batches.startExperiment(
      {
        dataset: 'produce-q4',
        application: 'produce',
        candidates: [{ model: 'pixel/sketch', overrides: {} }],
        sample: { mode: 'random', n: 2, seed: 42 },
      },
      caller,
    );
    expect(a.sample.items).toHaveLength(2);
    expect(b.sample.items).toEqual(a.sample.items);
    await waitFor('both samples to finish', async () => {
      const [pa, pb] = [await jobs.batches.progress(a.id, caller), await jobs.batches.progress(b.id, caller)];
      return pa.state === 'done' && pb.state === 'done';
    });
  });

  it("refuses a bad candidate override naming the field, an unknown model and another team's dataset", async () => {
    await expect(
      jobs.batches.startExperiment(
        {
          dataset: 'produce-q4',
          application: 'produce',
          candidates: [{ model: 'pixel/sketch', overrides: { cfgScale: 99 } }],
        },
        caller,
      ),
    ).rejects.toMatchObject({ code: 'invalid_argument', field: 'candidates[0].overrides.cfgScale' });
    await expect(
      jobs.batches.startExperiment(
        { dataset: 'produce-q4', application: 'produce', candidates: [{ model: 'nope/x', overrides: {} }] },
        caller,
      ),
    ).rejects.toMatchObject({ code: 'not_found', field: 'model' });
    await expect(
      jobs.batches.startExperiment(
        {
          dataset: 'produce-q4',
          application: 'produce',
          candidates: [{ model: 'pixel/sketch', overrides: {} }],
        },
        { team: 'other', role: 'member' },
      ),
    ).rejects.toMatchObject({ code: 'not_found', field: 'dataset' });
  });

  it('pause holds the remaining cells, resume finishes them without touching finished ones; cancel skips', async () => {
    const before = await imageCount();
    const run = await jobs.batches.startRun(
      { dataset: 'produce-q4', application: 'produce', candidate: { model: 'pixel/sketch', overrides: {} } },
      caller,
    );
    await jobs.batches.pause(run.id, caller);
    await waitFor('the queue to drain while paused', async () => {
      const queue = await jobs.boss.getQueue(CELL_QUEUE);
      return queue !== null && queue.queuedCount === 0 && queue.activeCount === 0;
    });
    const paused = await jobs.batches.progress(run.id, caller);
    expect(paused.state).toBe('paused');
    const finishedWhilePausing = paused.done;
    const doneCells = (await jobs.batches.runs.cells(run.id)).filter((c) => c.state === 'done');
    await jobs.batches.resume(run.id, caller);
    const done = await waitFor('the resumed run to finish', async () => {
      const p = await jobs.batches.progress(run.id, caller);
      return p.state === 'done' && p;
    });
    expect(done.done).toBe(5);
    expect((await imageCount()) - before).toBe(5);
    const after = await jobs.batches.runs.cells(run.id);
    for (const cell of doneCells) {
      expect(after.find((c) => c.item === cell.item)!.imageIds).toEqual(cell.imageIds);
    }
    expect(finishedWhilePausing).toBeLessThanOrEqual(5);

    const second = await jobs.batches.startRun(
      { dataset: 'produce-q4', application: 'produce', candidate: { model: 'pixel/sketch', overrides: {} } },
      caller,
    );
    const cancelled = await jobs.batches.cancel(second.id, caller);
    expect(cancelled.state).toBe('cancelled');
    await expect(jobs.batches.resume(second.id, caller)).rejects.toMatchObject({
      code: 'failed_precondition',
    });
    const p = await jobs.batches.progress(second.id, caller);
    expect(p.done + p.skipped + p.running).toBe(5);
  });

  it('a run stops at its budget with its state kept; a team over its monthly budget is refused', async () => {
    const usage = new UsageRepo(env.platform.db);
    // pixel/sketch is free: set a team budget of 0 to see the refusal.
    await usage.setTeamBudget('broke', 0, Date.now());
    await new DatasetRepo(env.platform.db).create({
      team: 'broke',
      name: 'd',
      source: 'd.csv',
      parsed: parseDataset('item\napple\n', 'csv'),
    });
    await expect(
      jobs.batches.startRun(
        { dataset: 'd', application: 'produce', candidate: { model: 'pixel/sketch', overrides: {} } },
        { team: 'broke', role: 'member' },
      ),
    ).rejects.toMatchObject({ code: 'resource_exhausted', field: 'team_budget', reason: 'budget_exhausted' });
  });

  it('idempotency keys are per run, item and candidate', () => {
    expect(cellKey({ runId: 'run_1', item: 3, candidate: 1 })).toBe('batch:run_1:3:1');
  });

  it('with the quality gate: every cell judged (pixel/inspect offline), pass rate ranked on the verdicts', async () => {
    const run = await jobs.batches.startExperiment(
      {
        dataset: 'produce-q4',
        application: 'produce',
        candidates: [
          { model: 'pixel/sketch', overrides: {} },
          { model: 'pixel/sketch', overrides: { style: 'flat-vector' } },
        ],
        sample: { mode: 'first', n: 2 },
        gate: true,
      },
      caller,
    );
    expect(run.gate).toBe(true);
    await waitFor(
      'the gated experiment to finish',
      async () => (await jobs.batches.progress(run.id, caller)).state === 'done',
      { timeoutMs: 60_000 },
    );
    const cells = await jobs.batches.runs.cells(run.id);
    expect(cells).toHaveLength(4);
    expect(
      cells.every((c) => c.state === 'done' && typeof c.judgePass === 'boolean' && c.imageIds.length >= 1),
    ).toBe(true);
    const judged = await env.platform.db.query<{ judge: unknown }>('SELECT judge FROM images WHERE id = $1', [
      cells[0]!.imageIds[0],
    ]);
    expect(judged[0]!.judge).not.toBeNull();
    const report = await jobs.batches.report(run.id, caller);
    expect(report.candidates.every((c) => c.acceptedBy === 'judge')).toBe(true);
    const passed = cells.filter((c) => c.judgePass).length;
    expect(report.candidates.reduce((s, c) => s + c.accepted, 0)).toBe(passed);
    expect(report.notes.some((n) => /no quality gate ran/.test(n))).toBe(false);
  }, 90_000);
});
