import { createHash } from 'node:crypto';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GenerateEvent, ImageService } from '../gen/pixel/v1/images_pb.ts';
import { startOpenAIFake } from '../providers/openai/fake.ts';
import { startTestServer, type TestServer } from './test-support.ts';

/** GenerateStream carries the provider's partial images as progress events; the final image alone is stored. */

let fake: Awaited<ReturnType<typeof startOpenAIFake>>;
let t: TestServer;

beforeAll(async () => {
  fake = await startOpenAIFake();
  t = await startTestServer({ env: { OPENAI_API_KEY: fake.apiKey, OPENAI_BASE_URL: fake.url } });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  await fake?.close();
});

const connect = () =>
  createClient(ImageService, createConnectTransport({ baseUrl: t.url, httpVersion: '1.1' }));

async function collect(stream: AsyncIterable<GenerateEvent>): Promise<GenerateEvent[]> {
  const events: GenerateEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}
const partialsOf = (events: GenerateEvent[]) =>
  events.flatMap((e) =>
    e.event.case === 'progress' && e.event.value.partialImage ? [e.event.value.partialImage] : [],
  );

describe('GenerateStream: partial images', () => {
  it('GPT image partials from OpenAI arrive as progress before the result; the stored image is the final one', async () => {
    fake.reset();
    const events = await collect(
      connect().generateStream({ model: 'openai/gpt-image-1.5', prompt: 'a sliced lemon', partialImages: 2 }),
    );
    const sent = fake.requests.find((r) => r.path === '/v1/images/generations')!.body;
    expect(sent).toMatchObject({ stream: true, partial_images: 2 });
    const partials = partialsOf(events);
    expect(partials.map((p) => p.index)).toEqual([0, 1]);
    for (const p of partials) {
      expect(p).toMatchObject({ mediaType: 'image/png', width: 1024, height: 1024 });
      expect((await sharp(p.data).metadata()).width).toBe(1024);
    }
    const last = events.at(-1)!;
    expect(last.event.case).toBe('result');
    const lastPartial = events.findLastIndex(
      (e) => e.event.case === 'progress' && e.event.value.partialImage,
    );
    expect(lastPartial).toBeLessThan(events.length - 1);
    if (last.event.case !== 'result') throw new Error('unreachable');
    const result = last.event.value;
    expect(result.report.find((l) => l.param === 'partial_images')).toMatchObject({ status: 'native' });
    expect(result.images).toHaveLength(1);
    // The stored bytes are not any partial's.
    const blob = await fetch(new URL(result.images[0]!.url, t.url));
    const stored = new Uint8Array(await blob.arrayBuffer());
    expect(createHash('sha256').update(stored).digest('hex')).toBe(result.images[0]!.sha256);
    const raw = (bytes: Uint8Array) => sharp(bytes).removeAlpha().raw().toBuffer();
    for (const p of partials) expect(Buffer.compare(await raw(p.data), await raw(stored))).not.toBe(0);
  }, 60_000);

  it('over gRPC too, with pixel/sketch (offline); none asked, none sent', async () => {
    const grpc = createClient(ImageService, createGrpcTransport({ baseUrl: t.url }));
    const sketch = await collect(
      grpc.generateStream({
        model: 'pixel/sketch',
        prompt: 'a red apple, a lemon and a pear',
        width: 256,
        height: 256,
        partialImages: 3,
      }),
    );
    expect(partialsOf(sketch).map((p) => p.index)).toEqual([0, 1, 2]);
    const plain = await collect(grpc.generateStream({ model: 'pixel/sketch', prompt: 'a plum' }));
    expect(partialsOf(plain)).toEqual([]);
  }, 60_000);

  it('the unary Generate reports partial_images as dropped; out of range is refused naming the field', async () => {
    const client = connect();
    const response = await client.generate({ model: 'pixel/sketch', prompt: 'a fig', partialImages: 2 });
    expect(response.report.find((l) => l.param === 'partial_images')).toMatchObject({
      status: 'dropped',
      note: expect.stringContaining('GenerateStream'),
    });
    const bad = { model: 'pixel/sketch', prompt: 'x', partialImages: 4 };
    await expect(collect(client.generateStream(bad))).rejects.toThrow(/partial_images/);
  }, 60_000);
});
