import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchService, type RunProgress } from '../gen/pixel/v1/batches_pb.ts';
import { ImageService } from '../gen/pixel/v1/images_pb.ts';
import { waitFor } from '../jobs/testing.ts';
import { startTestServer, type TestServer } from './test-support.ts';

let t: TestServer;
const ADMIN_KEY = 'pxl_batchtestadminkey0123456789';
const client = (key?: string) =>
  createClient(
    BatchService,
    createConnectTransport({
      baseUrl: t.url,
      httpVersion: '1.1',
      ...(key && {
        interceptors: [
          (next) => async (req) => {
            req.header.set('authorization', `Bearer ${key}`);
            return next(req);
          },
        ],
      }),
    }),
  );

beforeAll(async () => {
  // One cell at a time, so a restart lands mid-run.
  t = await startTestServer({ env: { PIXEL_ADMIN_KEY: ADMIN_KEY, PIXEL_WORKER_CONCURRENCY: '1' } });
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe('pixel.v1.BatchService on the embedded server (in-process worker)', () => {
  it('imports a dataset with bad rows reported, runs an experiment, streams progress, reports', async () => {
    const c = client();
    const imported = await c.importDataset({
      name: 'fruit',
      format: 'jsonl',
      content: '{"external_id":"a","vars":{"item":"pear"}}\n{oops\n{"vars":{"item":"plum","count":"two"}}\n',
    });
    expect(imported.dataset?.itemCount).toBe(2);
    expect(imported.rejected.map((r) => r.line)).toEqual([2]);
    const shown = await c.getDataset({ dataset: 'fruit' });
    expect(shown.items.map((i) => i.vars.item)).toEqual(['pear', 'plum']);

    const run = await c.startExperiment({
      dataset: 'fruit',
      application: 'produce',
      candidates: [
        { model: 'pixel/sketch', overrides: {} },
        { model: 'pixel/sketch', overrides: { style: 'line-art' } },
      ],
    });
    expect(run.cellCount).toBe(4);
    const updates: RunProgress[] = [];
    for await (const p of c.watchRun({ id: run.id, intervalMs: 100 })) updates.push(p);
    const last = updates.at(-1)!;
    expect(last).toMatchObject({ state: 'done', done: 4, remaining: 0, total: 4 });
    const report = await c.getExperimentReport({ id: run.id });
    expect(report.candidates).toHaveLength(2);
    expect(report.candidates[0]!.passRateCiLow).toBeGreaterThan(0);
    expect(report.recommended?.uncertainty).toMatch(/n = 2 items/);
    expect(report.csv.split('\n')[0]).toMatch(/^rank,candidate,model/);
    const usage = await c.getUsage({});
    expect(usage.runs.find((r) => r.runId === run.id)?.images).toBe(4);
    expect(usage.rows.some((r) => r.application === 'produce' && r.model === 'pixel/sketch')).toBe(true);
  });

  it('a run survives a server restart: finished items are untouched, the rest finish once', async () => {
    const c = client();
    const lines = Array.from({ length: 12 }, (_, i) => `{"vars":{"item":"fig ${i}"}}`).join('\n');
    await c.importDataset({ name: 'figs', format: 'jsonl', content: lines });
    const run = await c.startRun({
      dataset: 'figs',
      application: 'produce',
      candidate: { model: 'pixel/sketch', overrides: {} },
    });
    await waitFor('a few items', async () => {
      const p = await c.getRun({ id: run.id });
      const done = (await c.watchRun({ id: run.id })[Symbol.asyncIterator]().next()).value;
      return p.state === 'running' && done && done.done >= 2;
    });
    await t.restart();
    // No batch RPC yet: the restarted server took the waiting run up on its own (counted by the image list).
    const images = createClient(ImageService, createConnectTransport({ baseUrl: t.url, httpVersion: '1.1' }));
    await waitFor(
      'the restarted server to finish the run by itself',
      async () => (await images.listImages({ pageSize: 100 })).images.length >= 16,
      { timeoutMs: 40_000, everyMs: 200 },
    );
    const again = client();
    let last: RunProgress | undefined;
    for await (const p of again.watchRun({ id: run.id, intervalMs: 100 })) last = p;
    expect(last).toMatchObject({ state: 'done', done: 12, failed: 0 });
    const usage = await again.getUsage({});
    expect(usage.runs.find((r) => r.runId === run.id)?.images).toBe(12);
    // 4 images of the experiment before, 12 of this run: none was made twice across the restart.
    expect(usage.totalImages).toBe(16);
  }, 60_000);

  it('a team over its monthly budget is refused with resource_exhausted naming the budget', async () => {
    const admin = client(ADMIN_KEY);
    await expect(client().setTeamBudget({ team: 'local', monthlyUsd: 0 })).rejects.toMatchObject({
      code: Code.PermissionDenied,
    });
    await admin.setTeamBudget({ team: 'local', monthlyUsd: 0 });
    const images = createClient(ImageService, createConnectTransport({ baseUrl: t.url, httpVersion: '1.1' }));
    const error = await images.generate({ prompt: 'a pear', model: 'pixel/sketch' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.ResourceExhausted);
    expect((error as ConnectError).message).toMatch(/monthly budget/);
    const refused = await client()
      .startRun({ dataset: 'figs', application: 'produce', candidate: { model: 'pixel/sketch' } })
      .catch((e: unknown) => e);
    expect((refused as ConnectError).code).toBe(Code.ResourceExhausted);
    await admin.setTeamBudget({ team: 'local' });
  });

  it("ListRunCells pages a run's cells with their items, images and failure reasons, filtered by state", async () => {
    const c = client();
    await c.importDataset({
      name: 'grid',
      format: 'jsonl',
      content: [
        '{"external_id":"sku-a","category":"fruit","vars":{"item":"quince"}}',
        '{"external_id":"sku-b","vars":{"item":"medlar"}}',
        '{"vars":{"item":"loquat"}}',
      ].join('\n'),
    });
    // The second candidate's provider has no credentials here: its cells fail for good, with the reason.
    const run = await c.startExperiment({
      dataset: 'grid',
      application: 'produce',
      candidates: [
        { model: 'pixel/sketch', overrides: {} },
        { model: 'openai/gpt-image-1-mini', overrides: {} },
      ],
    });
    for await (const p of c.watchRun({ id: run.id, intervalMs: 100 })) if (p.state !== 'running') break;
    const first = await c.listRunCells({ id: run.id, pageSize: 4 });
    expect(first.total).toBe(6);
    expect(first.cells.map((x) => [x.item, x.candidate])).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    expect(first.nextPageToken).toBeTruthy();
    const second = await c.listRunCells({ id: run.id, pageSize: 4, pageToken: first.nextPageToken! });
    expect(second.cells.map((x) => [x.item, x.candidate])).toEqual([
      [2, 0],
      [2, 1],
    ]);
    expect(second.nextPageToken).toBeUndefined();
    const cells = [...first.cells, ...second.cells];
    expect(cells[0]).toMatchObject({
      externalId: 'sku-a',
      category: 'fruit',
      vars: { item: 'quince' },
      line: 1,
      model: 'pixel/sketch',
      state: 'done',
    });
    expect(cells[4]!.externalId).toBeUndefined();
    const images = createClient(ImageService, createConnectTransport({ baseUrl: t.url, httpVersion: '1.1' }));
    for (const cell of cells.filter((x) => x.candidate === 0)) {
      expect(cell.imageIds).toHaveLength(1);
      expect(cell.latencyMs).toBeGreaterThanOrEqual(0);
      expect((await images.getImage({ id: cell.imageIds[0]! })).prompt).toContain(cell.vars.item);
    }
    const failed = await c.listRunCells({ id: run.id, state: 'failed' });
    expect(failed.total).toBe(3);
    expect(failed.cells.every((x) => x.candidate === 1 && x.imageIds.length === 0)).toBe(true);
    expect(failed.cells[0]!.error).toMatchObject({
      code: 'failed_precondition',
      reason: 'provider_not_configured',
    });
    expect(failed.cells[0]!.error!.message).toMatch(/openai is not configured/);
    const onlyFirst = await c.listRunCells({ id: run.id, candidate: 0, state: 'done' });
    expect(onlyFirst.cells.map((x) => x.item)).toEqual([0, 1, 2]);
    await expect(c.listRunCells({ id: run.id, state: 'lost' })).rejects.toMatchObject({
      code: Code.InvalidArgument,
      message: expect.stringMatching(/state/),
    });
    await expect(c.listRunCells({ id: run.id, pageToken: 'nope' })).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
    await expect(c.listRunCells({ id: 'exp_missing' })).rejects.toMatchObject({ code: Code.NotFound });
  }, 60_000);
});
