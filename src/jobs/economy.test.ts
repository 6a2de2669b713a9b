import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetRepo } from '../catalog/datasets.ts';
import { parseDataset } from '../datasets/parse.ts';
import { startOpenAIFake } from '../providers/openai/fake.ts';
import { BATCH_INTERNAL_HEADER } from '../providers/openai/fake-batches.ts';
import type { Caller } from '../server/image-service.ts';
import { ECONOMY_MIN_DEADLINE_MS } from './batches.ts';
import { type JobSystem, startJobSystem } from './system.ts';
import { tempPlatform, waitFor } from './testing.ts';

const caller: Caller = { team: 'grocery', role: 'member' };
let fake: Awaited<ReturnType<typeof startOpenAIFake>>;
let env: Awaited<ReturnType<typeof tempPlatform>>;
let jobs: JobSystem;

beforeAll(async () => {
  fake = await startOpenAIFake();
  env = await tempPlatform({
    OPENAI_API_KEY: fake.apiKey,
    OPENAI_BASE_URL: fake.url,
    PIXEL_ECONOMY_POLL_MS: '1000',
  });
  jobs = await startJobSystem(env.platform, { worker: true, workerOptions: { pollMs: 100 } });
  const rows = ['sku,item', ...Array.from({ length: 5 }, (_, i) => `e-${i},economy item ${i}`)];
  await new DatasetRepo(env.platform.db).create({
    team: 'grocery',
    name: 'eco',
    source: 'eco.csv',
    parsed: parseDataset(rows.join('\n'), 'csv'),
  });
}, 60_000);

afterAll(async () => {
  await jobs?.stop(2_000);
  await env?.close();
  await fake?.close();
});

const direct = () =>
  fake.requests.filter(
    (r) => r.path === '/v1/images/generations' && r.headers[BATCH_INTERNAL_HEADER] !== '1',
  );
const batched = () =>
  fake.requests.filter(
    (r) => r.path === '/v1/images/generations' && r.headers[BATCH_INTERNAL_HEADER] === '1',
  );

describe('economy mode through the OpenAI Batch API (fake)', () => {
  it('a batch that expires with items unfinished: its results stored at half price, the rest done directly', async () => {
    fake.batches.expireNextAfter(3);
    const run = await jobs.batches.startRun(
      {
        dataset: 'eco',
        application: 'produce',
        candidate: { model: 'openai/gpt-image-1-mini', overrides: { quality: 'draft' } },
        economy: true,
        deadlineMs: ECONOMY_MIN_DEADLINE_MS,
      },
      caller,
    );
    const progress = await waitFor(
      'the economy run to finish',
      async () => {
        const p = await jobs.batches.progress(run.id, caller);
        return p.state === 'done' && p;
      },
      { timeoutMs: 40_000, everyMs: 100 },
    );
    expect(progress).toMatchObject({ total: 5, done: 5, failed: 0 });
    const cells = await jobs.batches.runs.cells(run.id);
    const viaBatch = cells.filter((c) => c.via === 'openai_batch');
    const viaDirect = cells.filter((c) => c.via === 'direct');
    expect(viaBatch).toHaveLength(3);
    expect(viaDirect).toHaveLength(2);
    // The two the batch left behind were retried directly and record why.
    expect(batched()).toHaveLength(3);
    expect(direct()).toHaveLength(2);
    // The batch sent the same native request a direct call sends.
    const withoutPrompt = (body: unknown) => ({ ...(body as Record<string, unknown>), prompt: undefined });
    expect(withoutPrompt(batched()[0]!.body)).toEqual(withoutPrompt(direct()[0]!.body));
    expect((batched()[0]!.body as { prompt: string }).prompt).toMatch(/economy item/);
    // Stored like any other image (one row per cell), at half the price.
    const rows = await env.platform.db.query<{ id: string; cost_usd: string; idempotency_key: string }>(
      'SELECT id, cost_usd, idempotency_key FROM images WHERE idempotency_key LIKE $1',
      [`batch:${run.id}:%`],
    );
    expect(rows).toHaveLength(5);
    const cost = (id: string) => Number(rows.find((r) => r.id === id)!.cost_usd);
    const batchCost = cost(viaBatch[0]!.imageIds[0]!);
    const directCost = cost(viaDirect[0]!.imageIds[0]!);
    expect(directCost).toBeGreaterThan(0);
    expect(batchCost).toBeCloseTo(directCost / 2, 6);
    expect(viaBatch[0]!.costUsd).toBeCloseTo(batchCost, 6);
    const batches = [...fake.batches.batches.values()];
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({ status: 'expired', request_counts: { total: 5, completed: 3 } });
  }, 60_000);

  it('economy mode is refused without a 24 h window or on a provider without a batch API', async () => {
    await expect(
      jobs.batches.startRun(
        {
          dataset: 'eco',
          application: 'produce',
          candidate: { model: 'openai/gpt-image-1-mini', overrides: {} },
          economy: true,
          deadlineMs: 3_600_000,
        },
        caller,
      ),
    ).rejects.toMatchObject({ code: 'invalid_argument', field: 'deadline' });
    await expect(
      jobs.batches.startRun(
        {
          dataset: 'eco',
          application: 'produce',
          candidate: { model: 'pixel/sketch', overrides: {} },
          economy: true,
          deadlineMs: ECONOMY_MIN_DEADLINE_MS,
        },
        caller,
      ),
    ).rejects.toMatchObject({ code: 'failed_precondition', field: 'economy' });
  });

  it('a run stops at its budget with its state kept, and resumes with a higher one', async () => {
    const run = await jobs.batches.startRun(
      {
        dataset: 'eco',
        application: 'produce',
        candidate: { model: 'openai/gpt-image-1-mini', overrides: { quality: 'draft' } },
        // Two and a half images' worth at the direct price (gpt-image-1-mini, low, 1024²: $0.005).
        budgetUsd: 0.0125,
      },
      caller,
    );
    const stopped = await waitFor(
      'the run to stop at its budget',
      async () => {
        const p = await jobs.batches.progress(run.id, caller);
        return p.state === 'budget_stopped' && p.running === 0 && p;
      },
      { timeoutMs: 40_000, everyMs: 100 },
    );
    expect(stopped.costUsd).toBeLessThanOrEqual(0.0125);
    expect(stopped.done).toBeGreaterThanOrEqual(1);
    expect(stopped.done).toBeLessThanOrEqual(2);
    expect(stopped.remaining).toBe(5 - stopped.done);
    expect(stopped.stopReason).toMatch(/run budget of \$0\.0125 reached/);
    const kept = (await jobs.batches.runs.cells(run.id)).filter((c) => c.state === 'done');
    await jobs.batches.resume(run.id, caller, { budgetUsd: 1 });
    const done = await waitFor(
      'the resumed run to finish',
      async () => {
        const p = await jobs.batches.progress(run.id, caller);
        return p.state === 'done' && p;
      },
      { timeoutMs: 40_000, everyMs: 100 },
    );
    expect(done.done).toBe(5);
    const after = await jobs.batches.runs.cells(run.id);
    for (const cell of kept) {
      expect(after.find((c) => c.item === cell.item)!.imageIds).toEqual(cell.imageIds);
    }
  }, 60_000);

  it('a refusal that cannot succeed: the cell fails at once with its reason, and goes to the dead letters', async () => {
    fake.inject({ kind: 'moderation', times: 1 });
    const run = await jobs.batches.startRun(
      {
        dataset: 'eco',
        application: 'produce',
        candidate: { model: 'openai/gpt-image-1-mini', overrides: {} },
      },
      caller,
    );
    const p = await waitFor(
      'the run to finish',
      async () => {
        const progress = await jobs.batches.progress(run.id, caller);
        return progress.state === 'done' && progress;
      },
      { timeoutMs: 40_000, everyMs: 100 },
    );
    expect(p).toMatchObject({ done: 4, failed: 1 });
    const failures = await jobs.batches.failures(run.id, caller);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.attempts).toBe(1);
    expect(failures[0]!.error).toMatchObject({ reason: 'content_moderated' });
    const dead = await jobs.boss.findJobs<{ runId: string; reason: { reason: string } }>('pixel-cells-dead');
    expect(dead.filter((j) => j.data.runId === run.id).map((j) => j.data.reason.reason)).toEqual([
      'content_moderated',
    ]);
  }, 60_000);
});
