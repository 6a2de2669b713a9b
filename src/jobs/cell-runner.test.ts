import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchRunRepo, type RunRecord } from '../catalog/batch-runs.ts';
import { DatasetRepo } from '../catalog/datasets.ts';
import { LEASE_MS } from '../catalog/idempotency.ts';
import { parseDataset } from '../datasets/parse.ts';
import { ManualClock } from '../providers/reliability/manual-clock.ts';
import type { ImageService } from '../server/image-service.ts';
import { type CellJob, CellRunner } from './cell-runner.ts';
import { tempPlatform } from './testing.ts';

const TEAM = 'gated-team';
const CELL_LEASE_MS = 5_000;

let env: Awaited<ReturnType<typeof tempPlatform>>;
let datasetId: string;

beforeAll(async () => {
  env = await tempPlatform();
  const dataset = await new DatasetRepo(env.platform.db).create({
    team: TEAM,
    name: 'pears',
    source: 'pears.csv',
    parsed: parseDataset('item,count\npear,two\nfig,three\n', 'csv'),
  });
  datasetId = dataset.id;
}, 60_000);

afterAll(async () => {
  await env?.close();
});

/** A gated run of two cells, recorded without queue jobs: the test drives the cell runners itself. */
async function gatedRun(id: string, clock: ManualClock): Promise<RunRecord> {
  const run: RunRecord = {
    id,
    kind: 'experiment',
    team: TEAM,
    datasetId,
    application: 'produce',
    candidates: [{ model: 'pixel/sketch', overrides: {} }],
    sample: { mode: 'all', items: [0, 1] },
    gate: true,
    economy: false,
    deadlineMs: null,
    budgetUsd: null,
    state: 'running',
    stopReason: null,
    cellCount: 2,
    createdMs: clock.now(),
    updatedMs: clock.now(),
  };
  await new BatchRunRepo(env.platform.db).create(run, [
    { item: 0, candidate: 0, provider: 'pixel' },
    { item: 1, candidate: 0, provider: 'pixel' },
  ]);
  return run;
}

function runner(owner: string, clock: ManualClock, images: ImageService = env.platform.images) {
  return new CellRunner({
    db: env.platform.db,
    images,
    clock,
    owner,
    leaseMs: CELL_LEASE_MS,
    limit: () => ({ rpm: 0 }),
    concurrency: () => 4,
  });
}

const teamImages = async () =>
  env.platform.db.query<{ id: string; status: string }>(
    'SELECT id, status FROM images WHERE team = $1 ORDER BY created_at, id',
    [TEAM],
  );

describe('gated cells are idempotent per (run, item, candidate)', () => {
  it('a stalled attempt overtaken by a retry (both leases lapsed) cannot record a second answer', async () => {
    const clock = new ManualClock(Date.now());
    const run = await gatedRun('exp_gatedtakeover', clock);
    const job: CellJob = { runId: run.id, item: 0, candidate: 0 };
    const before = (await teamImages()).length;
    // Worker A stalls before its generation (a long GC pause, a frozen VM) while holding the cell.
    const stall = Promise.withResolvers<void>();
    const stalled = {
      generateAndStore: async (...args: Parameters<ImageService['generateAndStore']>) => {
        await stall.promise;
        return env.platform.images.generateAndStore(...args);
      },
    } as ImageService;
    const a = runner('worker-a', clock, stalled).run(job, { final: false });
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Both its cell lease and its key's lease lapse; worker B takes the cell over and answers it.
    clock.advance(Math.max(LEASE_MS, CELL_LEASE_MS) + 1);
    const b = await runner('worker-b', clock).run(job, { final: false });
    expect(b).toEqual({ kind: 'done', replayed: false });
    const cell = (await new BatchRunRepo(env.platform.db).cell({ ...job }))!;
    expect(cell.state).toBe('done');
    expect(typeof cell.judgePass).toBe('boolean');
    const answer = cell.imageIds;
    expect(answer.length).toBeGreaterThanOrEqual(1);
    // A wakes up, runs its rounds, and is refused at the end: its rounds are deleted, the cell keeps B's answer.
    stall.resolve();
    const late = await a;
    expect(late.kind).toBe('retry');
    expect((await new BatchRunRepo(env.platform.db).cell({ ...job }))!.imageIds).toEqual(answer);
    const rows = (await teamImages()).slice(before);
    const live = rows.filter((r) => r.status !== 'deleted').map((r) => r.id);
    expect(live.sort()).toEqual([...answer].sort());
    expect(rows.length).toBeGreaterThan(live.length);
    // A duplicate job of the finished cell finds it done and generates nothing.
    expect(await runner('worker-c', clock).run(job, { final: false })).toEqual({
      kind: 'done',
      replayed: true,
    });
    expect((await teamImages()).length).toBe(before + rows.length);
  }, 60_000);

  it('a retry of a gated cell whose answer was kept (its worker died before recording it) replays it', async () => {
    const clock = new ManualClock(Date.now() + 3_600_000);
    const run = await gatedRun('exp_gatedreplay', clock);
    const job: CellJob = { runId: run.id, item: 1, candidate: 0 };
    expect(await runner('worker-d', clock).run(job, { final: false })).toEqual({
      kind: 'done',
      replayed: false,
    });
    const repo = new BatchRunRepo(env.platform.db);
    const first = (await repo.cell(job))!;
    const count = (await teamImages()).length;
    // The worker "died" between keeping the answer and recording it on the cell: the cell is still running.
    await env.platform.db.query(
      `UPDATE batch_cells SET state = 'running', image_ids = NULL, cost_usd = NULL, judge_pass = NULL,
         lease_owner = 'worker-gone', lease_until_ms = 0 WHERE run_id = $1 AND item_idx = 1`,
      [run.id],
    );
    await env.platform.db.query("UPDATE batch_runs SET state = 'running' WHERE id = $1", [run.id]);
    expect(await runner('worker-e', clock).run(job, { final: false })).toEqual({
      kind: 'done',
      replayed: true,
    });
    const again = (await repo.cell(job))!;
    expect(again.imageIds).toEqual(first.imageIds);
    expect(again.judgePass).toBe(first.judgePass);
    expect(again.costUsd).toBe(first.costUsd);
    expect((await teamImages()).length).toBe(count);
  }, 60_000);
});
