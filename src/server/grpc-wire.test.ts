import { connect } from 'node:http2';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageService } from '../gen/pixel/v1/images_pb.ts';
import { ModelService } from '../gen/pixel/v1/models_pb.ts';
import { toPixelError } from '../protocol/errors.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import { startTestServer, type TestServer } from './test-support.ts';

let t: TestServer;
let client: Client;
beforeAll(async () => {
  t = await startTestServer();
  client = new Client(new URL(t.url).host, credentials.createInsecure());
}, 120_000);
afterAll(async () => {
  client?.close();
  await t?.stop();
});

/** A unary call with raw bytes as the message (no generated stubs needed). */
function call(
  path: string,
  message: Buffer,
  options: { deadlineMs?: number; metadata?: Metadata } = {},
): Promise<{ error?: ServiceError; value?: Buffer; ms: number; trailers?: Metadata }> {
  const started = performance.now();
  return new Promise((resolve) => {
    let trailers: Metadata | undefined;
    const c = client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      message,
      options.metadata ?? new Metadata(),
      { deadline: Date.now() + (options.deadlineMs ?? 10_000) },
      (error, value) =>
        resolve({
          ...(error && { error }),
          ...(value && { value }),
          ms: performance.now() - started,
          ...(trailers && { trailers }),
        }),
    );
    c.on('status', (status) => {
      trailers = status.metadata;
    });
  });
}

describe('gRPC over HTTP/2 (grpc-js client)', () => {
  it('refuses a message over the size limit with RESOURCE_EXHAUSTED in trailers within a second', async () => {
    const huge = Buffer.alloc(2 * 1024 * 1024, 0x41);
    const answer = await call('/pixel.v1.ImageService/Generate', huge);
    expect(answer.error?.code).toBe(8);
    expect(answer.error?.details).toMatch(/message|limit|large/i);
    // The answer itself is immediate; the bound leaves room for pushing 2 MB through a loaded machine.
    expect(answer.ms).toBeLessThan(2000);
    // A caller still sending the rest of an over-limit message gets the trailers and then the stream
    // reset with NO_ERROR (its write can never finish otherwise), and the connection stays usable.
    const session = connect(t.url);
    try {
      const started = performance.now();
      const outcome = await new Promise<{ trailers?: Record<string, unknown>; rst?: number }>((resolve) => {
        const stream = session.request({
          ':method': 'POST',
          ':path': '/pixel.v1.ImageService/Generate',
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        let trailers: Record<string, unknown> | undefined;
        stream.on('trailers', (headers) => {
          trailers = headers;
        });
        stream.on('close', () => resolve({ ...(trailers && { trailers }), rst: stream.rstCode }));
        stream.on('error', () => {});
        stream.resume();
        const head = Buffer.alloc(5);
        head.writeUInt32BE(30 * 1024 * 1024, 1);
        stream.write(head);
        stream.write(Buffer.alloc(1024 * 1024, 1)); // and never ends
        setTimeout(() => resolve({ ...(trailers && { trailers }) }), 3000).unref();
      });
      expect(outcome.trailers?.['grpc-status']).toBe('8');
      expect(outcome.rst).toBe(0);
      expect(performance.now() - started).toBeLessThan(1000);
      const next = await new Promise<unknown>((resolve) => {
        const stream = session.request({
          ':method': 'POST',
          ':path': '/pixel.v1.ModelService/ListModels',
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        stream.on('trailers', (headers) => resolve(headers['grpc-status']));
        stream.on('error', () => resolve('error'));
        stream.resume();
        stream.end(Buffer.alloc(5));
        setTimeout(() => resolve('timeout'), 3000).unref();
      });
      expect(next).toBe('0');
    } finally {
      session.destroy();
    }
    // The connection is still usable afterwards.
    const ok = await call('/pixel.v1.ModelService/ListModels', Buffer.alloc(0));
    expect(ok.error).toBeUndefined();
  });

  it('answers an unknown method or service with UNIMPLEMENTED (12), not an HTTP 404', async () => {
    const method = await call('/pixel.v1.ImageService/NoSuchMethod', Buffer.alloc(0));
    expect(method.error?.code).toBe(12);
    const service = await call('/pixel.v9.Nothing/Here', Buffer.alloc(0));
    expect(service.error?.code).toBe(12);
    expect(service.error?.details).toMatch(/pixel\.v9\.Nothing\/Here/);
  });
});

describe('over-limit bodies on HTTP/1.1 keep-alive connections', () => {
  it('leave no connection stuck: the next request on it is answered at once', async () => {
    const transport = createConnectTransport({ baseUrl: t.url, httpVersion: '1.1' });
    const images = createClient(ImageService, transport);
    const models = createClient(ModelService, transport);
    const big = 'x'.repeat(1_200_000);
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (error: unknown) => Code[ConnectError.from(error).code],
      );
    const drain = async () => {
      for await (const _ of images.generateStream({ prompt: big }, { timeoutMs: 3000 })) {
        // nothing expected
      }
    };
    expect(await code(images.generate({ prompt: big }, { timeoutMs: 3000 }))).toBe('ResourceExhausted');
    // Today this request rides the same connection, behind the unread rest of the first body.
    expect(await code(drain())).toBe('ResourceExhausted');
    expect(await code(models.listModels({}, { timeoutMs: 3000 }))).toBe('ok');
  });
});

describe('deadlines', () => {
  let slow: TestServer;
  let calls = 0;
  beforeAll(async () => {
    // A provider that answers only when its call is aborted, the way adapters do: a `cancelled` error.
    const hanging: ProviderAdapter = {
      name: 'openai',
      generate: (call) =>
        new Promise((_resolve, reject) => {
          calls++;
          call.signal?.addEventListener('abort', () =>
            reject(toPixelError(Object.assign(new Error('aborted'), { name: 'AbortError' }))),
          );
        }),
    };
    slow = await startTestServer({
      env: { OPENAI_API_KEY: 'sk-test' },
      deps: { adapters: new Map([['openai', hanging]]) },
    });
  }, 120_000);
  afterAll(async () => {
    await slow?.stop();
  });
  const body = { model: 'openai/gpt-image-1.5', prompt: 'a plum', width: 1024, height: 1024 };

  it('a deadline the caller set ends the call with DEADLINE_EXCEEDED on Connect (504) and gRPC (4)', async () => {
    const res = await fetch(`${slow.url}/pixel.v1.ImageService/Generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'connect-timeout-ms': '200' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(504);
    expect(((await res.json()) as { code: string }).code).toBe('deadline_exceeded');
    expect(calls).toBeGreaterThan(0);

    // gRPC: the deadline travels as grpc-timeout and the server itself ends the call (no client timer here,
    // so the status in the trailers is the server's own).
    const { create, toBinary } = await import('@bufbuild/protobuf');
    const message = Buffer.from(
      toBinary(ImageService.method.generate.input, create(ImageService.method.generate.input, body)),
    );
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    const session = connect(slow.url);
    try {
      const trailers = await new Promise<Record<string, unknown> | undefined>((resolve) => {
        const stream = session.request({
          ':method': 'POST',
          ':path': '/pixel.v1.ImageService/Generate',
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': '250m',
        });
        stream.on('trailers', (t) => resolve(t));
        stream.on('response', (h) => {
          if (h['grpc-status'] !== undefined) resolve(h);
        });
        stream.on('error', () => resolve(undefined));
        stream.resume();
        stream.end(frame);
        setTimeout(() => resolve(undefined), 5000).unref();
      });
      expect(trailers?.['grpc-status']).toBe('4');
    } finally {
      session.destroy();
    }
    const log = slow.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'rpc');
    expect(log.filter((l) => l.outcome === 'deadline_exceeded').map((l) => l.surface)).toEqual([
      'connect',
      'grpc',
    ]);
  });

  it('a caller going away is cancelled', async () => {
    const controller = new AbortController();
    const pending = fetch(`${slow.url}/pixel.v1.ImageService/Generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: controller.signal,
    }).catch(() => undefined);
    for (let i = 0; i < 100 && calls < 3; i++) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await pending;
    let outcome: unknown;
    for (let i = 0; i < 100 && outcome === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
      outcome = slow.logs
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === 'rpc' && l.rpc === 'pixel.v1.ImageService/Generate')
        .at(-1)?.outcome;
      if (outcome === 'deadline_exceeded') outcome = undefined;
    }
    expect(outcome).toBe('cancelled');
  });
});
