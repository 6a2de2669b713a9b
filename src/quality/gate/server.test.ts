import { fileURLToPath } from 'node:url';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withGate } from '../../cli/generate/gate-flags.ts';
import { generateOnServer } from '../../cli/generate/remote.ts';
import { ImageService } from '../../gen/pixel/v1/images_pb.ts';
import { ReviewService } from '../../gen/pixel/v1/review_pb.ts';
import { startTestServer, type TestServer } from '../../server/test-support.ts';

const DEMO_APPS = fileURLToPath(new URL('../../../examples/quality-gate/apps', import.meta.url));

let t: TestServer;
let previous: string | undefined;

beforeAll(async () => {
  previous = process.env.PIXEL_APPS_DIR;
  process.env.PIXEL_APPS_DIR = DEMO_APPS;
  t = await startTestServer({ env: { PIXEL_QUALITY_REVIEW: 'all' } });
}, 120_000);
afterAll(async () => {
  await t?.stop();
  if (previous === undefined) delete process.env.PIXEL_APPS_DIR;
  else process.env.PIXEL_APPS_DIR = previous;
});

describe('the quality gate through the service', () => {
  it('runs on Generate (RPC) with GateOptions and answers every round and the verdict', async () => {
    const client = createClient(ImageService, createConnectTransport({ baseUrl: t.url, httpVersion: '1.1' }));
    const stages: string[] = [];
    let result: Awaited<ReturnType<typeof client.generate>> | undefined;
    for await (const event of client.generateStream({
      model: '',
      prompt: '',
      app: 'gate-demo',
      vars: { item: 'apples' },
      gate: {},
    })) {
      if (event.event.case === 'progress') stages.push(event.event.value.stage);
      if (event.event.case === 'result') result = event.event.value;
    }
    expect(stages.filter((s) => s === 'judging')).toHaveLength(2);
    expect(result?.gate?.verdict).toMatchObject({ status: 'passed', round: 2, stopReason: 'passed' });
    expect(result?.gate?.rounds.map((r) => [r.round, r.status, r.writer])).toEqual([
      [1, 'failed', 'template'],
      [2, 'passed', 'template+fix-hints'],
    ]);
    expect(result?.gate?.rounds[0]?.answers.find((a) => a.questionId === 'background')).toMatchObject({
      answer: 'no',
      path: 'pixels',
    });
    expect(result?.images[0]?.id).toBe(result?.gate?.rounds[1]?.imageId);

    const plain = await client.generate({ model: '', prompt: '', app: 'gate-demo', vars: { item: 'pears' } });
    expect(plain.gate).toBeUndefined();

    const reviews = createClient(
      ReviewService,
      createConnectTransport({ baseUrl: t.url, httpVersion: '1.1' }),
    );
    const queue = await reviews.listReviewQueue({});
    expect(queue.items.map((i) => i.imageId)).toContain(result?.images[0]?.id);
  }, 120_000);

  it('runs for pixel generate --gate sent to a server, printing its rounds and verdict', async () => {
    const summary = await generateOnServer(
      t.url,
      withGate({ prompt: '', app: 'gate-demo', vars: { item: 'apples' } }, { gate: true, maxRounds: '2' }),
      { signal: new AbortController().signal },
    );
    expect(summary.gate?.verdict).toMatchObject({ status: 'passed', round: 2 });
    expect(summary.gate?.rounds.map((r) => r.writer)).toEqual(['template', 'template+fix-hints']);
    expect(summary.gate?.rounds[0]?.answers.find((a) => a.questionId === 'background')?.answer).toBe('no');
  }, 120_000);

  it('runs on the REST surface with the gate extra field, answering in pixel.gate', async () => {
    const res = await fetch(`${t.url}/v1/images/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        app: 'gate-demo',
        vars: { item: 'apples' },
        gate: { maxRounds: 1 },
        response_format: 'url',
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      data: unknown[];
      pixel: { gate?: { verdict: { status: string; stopReason: string }; rounds: unknown[] } };
    };
    expect(body.data).toHaveLength(1);
    expect(body.pixel.gate?.rounds).toHaveLength(1);
    expect(body.pixel.gate?.verdict).toMatchObject({ status: 'failed', stopReason: 'max_rounds' });
  }, 120_000);
});
