import { createHash } from 'node:crypto';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorDetailSchema } from '../gen/pixel/v1/common_pb.ts';
import { ImageService } from '../gen/pixel/v1/images_pb.ts';
import { ModelService } from '../gen/pixel/v1/models_pb.ts';
import { startTestServer, type TestServer } from './test-support.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.stop();
});

const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('Connect JSON with plain fetch', () => {
  it('generates, stores and reads back an image', async () => {
    const res = await postJson(
      '/pixel.v1.ImageService/Generate',
      { model: 'pixel/sketch', prompt: 'ribeye steak on a board', width: 320, height: 240, seed: 42 },
      { 'x-request-id': 'test-req-1' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('test-req-1');
    const body = (await res.json()) as {
      images: Array<Record<string, unknown>>;
      report: unknown[];
      route: string;
    };
    expect(body.route).toBe('pixel/sketch');
    expect(body.images).toHaveLength(1);
    const image = body.images[0]!;
    expect(image.id).toMatch(/^img_/);
    expect([image.width, image.height, image.seed]).toEqual([320, 240, 42]);
    expect(image.team).toBe('local');
    expect(body.report.length).toBeGreaterThan(0);

    // The file is served with the recorded sha256 as its hash and ETag.
    const file = await fetch(String(image.url));
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(file.headers.get('cache-control')).toContain('immutable');
    const bytes = Buffer.from(await file.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(image.sha256);
    expect(file.headers.get('etag')).toBe(`"${image.sha256}"`);
    const again = await fetch(String(image.url), { headers: { 'if-none-match': `"${image.sha256}"` } });
    expect(again.status).toBe(304);

    const got = await postJson('/pixel.v1.ImageService/GetImage', { id: image.id });
    const record = (await got.json()) as Record<string, unknown>;
    expect(record.sha256).toBe(image.sha256);
    expect(record.prompt).toBe('ribeye steak on a board');
    expect(record.nativeRequest).toBeTypeOf('object');
  });

  it('answers malformed JSON and wrong types with invalid_argument naming the field', async () => {
    const malformed = await postJson('/pixel.v1.ImageService/Generate', '{"prompt": ');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { code: string }).code).toBe('invalid_argument');

    const wrongType = await postJson('/pixel.v1.ImageService/Generate', { prompt: 'x', width: 'wide' });
    expect(wrongType.status).toBe(400);
    const wrong = (await wrongType.json()) as { code: string; message: string };
    expect(wrong.code).toBe('invalid_argument');
    expect(wrong.message).toContain('width');

    const tooMany = await postJson('/pixel.v1.ImageService/Generate', { prompt: 'x', n: 1000 });
    expect(tooMany.status).toBe(400);
    expect(((await tooMany.json()) as { message: string }).message).toMatch(/^n\b/);

    const long = await postJson('/pixel.v1.ImageService/Generate', { prompt: 'x'.repeat(40_000) });
    expect(long.status).toBe(400);
    expect(((await long.json()) as { message: string }).message).toMatch(/^prompt/);

    const unknown = await postJson('/pixel.v1.ImageService/Generate', {
      prompt: 'x',
      model: 'nope/not-a-model',
    });
    expect(unknown.status).toBe(404);
    const body = (await unknown.json()) as { code: string; message: string };
    expect(body.code).toBe('not_found');
    expect(body.message).toMatch(/^model/);
  });

  it('refuses traversal in file keys', async () => {
    const res = await fetch(`${t.url}/files/..%2F..%2Fpglite%2FPG_VERSION`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { field: string } };
    expect(body.error.field).toBe('key');
    expect((await fetch(`${t.url}/files/images/00/00/${'0'.repeat(64)}.png`)).status).toBe(404);
  });
});

describe('generated Connect client over HTTP/1.1', () => {
  for (const useBinaryFormat of [false, true]) {
    it(`round-trips Generate, GetImage, ListImages, DeleteImage (${useBinaryFormat ? 'binary' : 'JSON'})`, async () => {
      const client = createClient(
        ImageService,
        createConnectTransport({ baseUrl: t.url, httpVersion: '1.1', useBinaryFormat }),
      );
      const generated = await client.generate({
        prompt: `tomatoes on the vine ${useBinaryFormat}`,
        n: 2,
        seed: 7,
      });
      expect(generated.images.map((i) => i.seed)).toEqual([7, 8]);
      const [first] = generated.images;
      const got = await client.getImage({ id: first!.id });
      expect(got.sha256).toBe(first!.sha256);
      expect(got.byteSize).toBe(first!.byteSize);
      expect(got.createdAt).toBeDefined();

      // Pages of one, newest first, following the page token to the end (bounded).
      const seen: string[] = [];
      let pageToken = '';
      for (let page = 0; page < 50; page++) {
        const list = await client.listImages({ pageSize: 1, pageToken, model: 'pixel/sketch' });
        seen.push(...list.images.map((i) => i.id));
        pageToken = list.nextPageToken;
        if (pageToken === '') break;
      }
      expect(new Set(seen).size).toBe(seen.length);
      for (const image of generated.images) expect(seen).toContain(image.id);

      await client.deleteImage({ id: first!.id });
      const error = await client.getImage({ id: first!.id }).catch((e: unknown) => e);
      expect(ConnectError.from(error).code).toBe(Code.NotFound);
    });
  }

  it('streams progress in order and ends with the result', async () => {
    const client = createClient(ImageService, createConnectTransport({ baseUrl: t.url, httpVersion: '1.1' }));
    const stages: string[] = [];
    let result: { images: Array<{ id: string }> } | undefined;
    for await (const event of client.generateStream({ prompt: 'lettuce', n: 2 })) {
      if (event.event.case === 'progress') stages.push(event.event.value.stage);
      if (event.event.case === 'result') result = event.event.value;
    }
    const order = ['queued', 'translating', 'generating', 'post-processing', 'stored'];
    const firstOf = order.map((stage) => stages.indexOf(stage));
    expect(firstOf.every((i) => i >= 0)).toBe(true);
    expect([...firstOf].sort((a, b) => a - b)).toEqual(firstOf);
    expect(stages.at(-1)).toBe('stored');
    expect(result?.images).toHaveLength(2);
  });

  it('reports a stream error with its code', async () => {
    const client = createClient(ImageService, createConnectTransport({ baseUrl: t.url, httpVersion: '1.1' }));
    const run = async () => {
      for await (const _ of client.generateStream({ prompt: 'x', cfgScale: 99 })) {
        // drain
      }
    };
    const error = ConnectError.from(await run().catch((e: unknown) => e));
    expect(error.code).toBe(Code.InvalidArgument);
    const detail = error.findDetails(ErrorDetailSchema)[0];
    expect(detail?.field).toBe('cfgScale');
  });

  it('lists models and previews a translation', async () => {
    const models = createClient(ModelService, createConnectTransport({ baseUrl: t.url, httpVersion: '1.1' }));
    const list = await models.listModels({});
    const sketch = list.models.find((m) => m.id === 'pixel/sketch');
    expect(sketch?.configured).toBe(true);
    expect(list.models.some((m) => m.status === 'retired')).toBe(false);
    const all = await models.listModels({ includeRetired: true });
    expect(all.models.length).toBeGreaterThan(list.models.length);
    const preview = await models.translatePreview({
      model: 'pixel/sketch',
      prompt: 'apples',
      n: 1,
      width: 300,
      height: 200,
    });
    expect(preview.model).toBe('pixel/sketch');
    expect(preview.calls).toHaveLength(1);
    expect(preview.report.length).toBeGreaterThan(0);
    const missing = await models.getModel({ id: 'pixel/sktch' }).catch((e: unknown) => e);
    expect(ConnectError.from(missing).code).toBe(Code.NotFound);
  });
});

describe('gRPC over HTTP/2 and gRPC-Web on the same port', () => {
  it('generates with a gRPC client and reads the image back', async () => {
    const transport = createGrpcTransport({ baseUrl: t.url });
    const client = createClient(ImageService, transport);
    const generated = await client.generate({ prompt: 'carrots', seed: 3 });
    expect(generated.images[0]?.seed).toBe(3);
    const got = await client.getImage({ id: generated.images[0]!.id });
    expect(got.prompt).toBe('carrots');
    const error = await client.generate({ prompt: '' }).catch((e: unknown) => e);
    const connectError = ConnectError.from(error);
    expect(connectError.code).toBe(Code.InvalidArgument);
    expect(connectError.findDetails(ErrorDetailSchema)[0]?.field).toBe('prompt');
  });

  it('streams over gRPC', async () => {
    const client = createClient(ImageService, createGrpcTransport({ baseUrl: t.url }));
    const stages: string[] = [];
    for await (const event of client.generateStream({ prompt: 'pears' })) {
      stages.push(event.event.case === 'progress' ? event.event.value.stage : 'result');
    }
    expect(stages[0]).toBe('queued');
    expect(stages.at(-1)).toBe('result');
  });

  it('answers gRPC-Web over HTTP/1.1', async () => {
    const client = createClient(ModelService, createGrpcWebTransport({ baseUrl: t.url, httpVersion: '1.1' }));
    const model = await client.getModel({ id: 'pixel/sketch' });
    expect(model.provider).toBe('pixel');
  });
});

describe('operations', () => {
  it('serves health, readiness and metrics', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks).toEqual({
      database: 'ok',
      store: 'ok',
    });
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(
      /pixel_requests_total\{surface="connect",method="Generate",provider="pixel",model="pixel\/sketch",outcome="ok"\} [1-9]/,
    );
    expect(metrics).toMatch(/pixel_requests_total\{surface="grpc",method="Generate"/);
    expect(metrics).toMatch(/pixel_images_stored_total\{provider="pixel",model="pixel\/sketch"\} [1-9]/);
    expect(metrics).toMatch(/pixel_errors_total\{surface="connect",code="invalid_argument"\} [1-9]/);
    expect(metrics).toContain('pixel_request_duration_seconds_bucket');
  });

  it('logs JSON lines with request ids and says that anonymous access is on', () => {
    const lines = t.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const started = lines.find((l) => l.msg === 'pixel listening');
    expect(String(started?.auth)).toContain('anonymous');
    expect(lines.some((l) => l.msg === 'rpc' && l.reqId === 'test-req-1')).toBe(true);
  });
});
