import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../models/schema.ts';
import { failure, serveFakeForSuite } from '../testing/suite.ts';
import type { ProviderProgress } from '../types.ts';
import { createOpenAIAdapter } from './adapter.ts';
import { startOpenAIFake } from './fake.ts';
import { readSse } from './sse.ts';

const model = (id: string) => ({ id: `openai/${id}`, providerModelId: id }) as ModelEntry;

let fake: Awaited<ReturnType<typeof startOpenAIFake>>;
serveFakeForSuite(async () => (fake = await startOpenAIFake()));

const adapter = () => createOpenAIAdapter({ apiKey: fake.apiKey, baseURL: fake.url });
type Partial = NonNullable<ProviderProgress['partial']>;

/** The raw answer of the fake to a streamed request, as text. */
async function rawStream(body: Record<string, unknown>): Promise<{ type: string; text: string }> {
  const res = await fetch(`${fake.url}/images/generations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { type: res.headers.get('content-type') ?? '', text: await res.text() };
}

describe('OpenAI fake: the streamed answer', () => {
  it('is text/event-stream with one event: and one data: line per event, partials first', async () => {
    const { type, text } = await rawStream({
      model: 'gpt-image-1.5',
      prompt: 'a pear',
      size: '1024x1536',
      quality: 'low',
      stream: true,
      partial_images: 2,
    });
    expect(type).toMatch(/^text\/event-stream/);
    const blocks = text.split('\n\n').filter((b) => b !== '');
    expect(blocks).toHaveLength(3);
    const events = blocks.map((block) => {
      const lines = block.split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^event: image_generation\.(partial_image|completed)$/);
      expect(lines[1]).toMatch(/^data: \{/);
      return { name: lines[0]!.slice('event: '.length), data: JSON.parse(lines[1]!.slice(6)) };
    });
    expect(events.map((e) => e.name)).toEqual([
      'image_generation.partial_image',
      'image_generation.partial_image',
      'image_generation.completed',
    ]);
    for (const e of events) expect(e.data.type).toBe(e.name);
    expect(Object.keys(events[0]!.data).sort()).toEqual(
      [
        'type',
        'b64_json',
        'created_at',
        'size',
        'quality',
        'background',
        'output_format',
        'partial_image_index',
      ].sort(),
    );
    expect(events.slice(0, 2).map((e) => e.data.partial_image_index)).toEqual([0, 1]);
    expect(events[2]!.data).toMatchObject({ size: '1024x1536', quality: 'low', output_format: 'png' });
    expect(events[2]!.data.usage.output_tokens).toBeGreaterThan(0);
  });

  it('refuses streaming for DALL·E up front, as plain JSON', async () => {
    const res = await fetch(`${fake.url}/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'dall-e-3', prompt: 'x', stream: true }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('stream');
  });
});

describe('OpenAI adapter: partial images', () => {
  it('asks for stream + partial_images, passes each partial on as it arrives, returns the final image', async () => {
    const partials: Partial[] = [];
    const result = await adapter().generate({
      model: model('gpt-image-1.5'),
      body: { model: 'gpt-image-1.5', prompt: 'a ribeye steak', size: '1536x1024', output_format: 'webp' },
      count: 1,
      partialImages: 2,
      onProgress: (p) => {
        if (p.partial) partials.push(p.partial);
      },
    });
    expect(fake.requests[0]!.body).toMatchObject({ stream: true, partial_images: 2 });
    expect(partials.map((p) => p.index)).toEqual([0, 1]);
    for (const p of partials) {
      expect(p).toMatchObject({ width: 1536, height: 1024, mediaType: 'image/webp' });
      expect((await sharp(p.bytes).metadata()).format).toBe('webp');
    }
    expect(result.images).toHaveLength(1);
    expect(result.images[0]).toMatchObject({ width: 1536, height: 1024, mediaType: 'image/webp' });
    const all = [...partials.map((p) => Buffer.from(p.bytes)), Buffer.from(result.images[0]!.bytes)];
    expect(new Set(all.map((b) => b.toString('base64'))).size).toBe(3);
    expect(result.requestId).toMatch(/^req_/);
    expect(result.usage).toMatchObject({ size: '1536x1024', output_format: 'webp' });
    expect(result.usage?.output_tokens).toBeGreaterThan(0);
  });

  it('caps partial images at OpenAI’s 3 and keeps n: one completed event per image', async () => {
    const partials: Partial[] = [];
    const result = await adapter().generate({
      model: model('gpt-image-1-mini'),
      body: { model: 'gpt-image-1-mini', prompt: 'grapes', n: 2 },
      count: 2,
      partialImages: 5,
      onProgress: (p) => p.partial && partials.push(p.partial),
    });
    expect(fake.requests[0]!.body).toMatchObject({ partial_images: 3 });
    expect(partials).toHaveLength(3);
    expect(result.images).toHaveLength(2);
  });

  it('streams edits too (multipart stream=true, partial_images)', async () => {
    const source = await sharp({ create: { width: 64, height: 64, channels: 4, background: '#3c3' } })
      .png()
      .toBuffer();
    const partials: Partial[] = [];
    const result = await adapter().edit({
      model: model('gpt-image-1.5'),
      body: { model: 'gpt-image-1.5', prompt: 'add a lemon' },
      count: 1,
      images: [new Uint8Array(source)],
      partialImages: 1,
      onProgress: (p) => p.partial && partials.push(p.partial),
    });
    expect(fake.requests[0]!.body).toMatchObject({ stream: 'true', partial_images: '1' });
    expect(partials.map((p) => p.index)).toEqual([0]);
    expect(result.images[0]).toMatchObject({ width: 1024, height: 1024 });
  });

  it('a server error mid-stream, after a partial, is a retryable unavailable error', async () => {
    fake.failStream({ afterPartials: 1, kind: 'server_error' });
    const partials: Partial[] = [];
    const error = await failure(
      adapter().generate({
        model: model('gpt-image-1.5'),
        body: { model: 'gpt-image-1.5', prompt: 'x' },
        count: 1,
        partialImages: 2,
        onProgress: (p) => p.partial && partials.push(p.partial),
      }),
    );
    expect(partials).toHaveLength(1);
    expect(error).toMatchObject({ code: 'unavailable', retryable: true, provider: 'openai' });
    expect(error.providerRequestId).toMatch(/^req_/);
  });

  it('a moderation refusal mid-stream is content_moderated, not retryable', async () => {
    fake.failStream({ afterPartials: 0, kind: 'moderation' });
    const error = await failure(
      adapter().generate({
        model: model('gpt-image-1.5'),
        body: { model: 'gpt-image-1.5', prompt: 'x' },
        count: 1,
        partialImages: 2,
      }),
    );
    expect(error).toMatchObject({ code: 'permission_denied', reason: 'content_moderated', retryable: false });
  });

  it('a refusal before the stream opens is the plain HTTP error, field named', async () => {
    const error = await failure(
      adapter().generate({
        model: model('gpt-image-1.5'),
        body: { model: 'gpt-image-1.5', prompt: 'x', size: '999x999' },
        count: 1,
        partialImages: 1,
      }),
    );
    expect(error).toMatchObject({ code: 'invalid_argument', field: 'providerOptions.openai.size' });
  });

  it('a stream cut short, or of the wrong type, is a malformed answer', async () => {
    const answer = (body: string, type = 'text/event-stream') =>
      createOpenAIAdapter({
        apiKey: 'k',
        baseURL: 'http://stream.invalid/v1',
        fetch: async () => new Response(body, { status: 200, headers: { 'content-type': type } }),
      }).generate({ model: model('gpt-image-1.5'), body: { prompt: 'x' }, count: 1, partialImages: 1 });
    const cut = await failure(answer('event: image_generation.partial_image\ndata: {"type":"image_gen'));
    expect(cut).toMatchObject({ code: 'unavailable', reason: 'malformed_response' });
    expect(cut.message).toContain('without an image');
    const json = await failure(answer('{"created":1,"data":[]}', 'application/json'));
    expect(json.reason).toBe('malformed_response');
    const junk = await failure(answer('event: image_generation.completed\ndata: not json\n\n'));
    expect(junk.message).toContain('not JSON');
  });

  it('reads the Responses API’s flat error event as well', async () => {
    const flat = createOpenAIAdapter({
      apiKey: 'k',
      baseURL: 'http://stream.invalid/v1',
      fetch: async () =>
        new Response(
          'event: error\ndata: {"type":"error","code":"rate_limit_exceeded","message":"Rate limit reached. Please try again in 3s.","param":null}\n\n',
          { status: 200, headers: { 'content-type': 'text/event-stream' } },
        ),
    });
    const error = await failure(
      flat.generate({ model: model('gpt-image-1.5'), body: { prompt: 'x' }, count: 1, partialImages: 1 }),
    );
    expect(error).toMatchObject({ reason: 'rate_limited', retryable: true, retryAfterMs: 3000 });
  });
});

describe('readSse', () => {
  const chunks = async function* (...parts: string[]) {
    for (const p of parts) yield new TextEncoder().encode(p);
  };
  const all = async (...parts: string[]) => {
    const out = [];
    for await (const e of readSse(chunks(...parts))) out.push(e);
    return out;
  };

  it('splits on LF, CRLF and CR across chunk edges; joins data lines; skips comments and empty events', async () => {
    expect(
      await all(
        ': keep-alive\n\n',
        'event: a\r',
        '\ndata: 1\r\ndata:2\r',
        '\r',
        'data: {"x":',
        '3}\n\nevent: nodata\n\n',
        'data: last\r',
      ),
    ).toEqual([
      { event: 'a', data: '1\n2' },
      { event: 'message', data: '{"x":3}' },
    ]);
  });

  it('decodes UTF-8 split between chunks', async () => {
    const bytes = new TextEncoder().encode('data: é\n\n');
    async function* split() {
      yield bytes.slice(0, 7);
      yield bytes.slice(7);
    }
    const out = [];
    for await (const e of readSse(split())) out.push(e);
    expect(out).toEqual([{ event: 'message', data: 'é' }]);
  });
});
