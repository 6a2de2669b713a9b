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
});
