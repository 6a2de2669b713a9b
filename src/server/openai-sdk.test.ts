import { createHash } from 'node:crypto';
import OpenAI, { toFile } from 'openai';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIFake } from '../providers/openai/fake.ts';
import { startTestServer, type TestServer } from './test-support.ts';

/**
 * The official `openai` npm SDK, unchanged but for its base URL and a placeholder key, against a running
 * server: newer request fields, streaming, edits (pixel/sketch offline, GPT image through the OpenAI fake)
 * and the model endpoints.
 */

interface ReportLine {
  param: string;
  status: string;
  requested?: unknown;
  sent?: unknown;
  note: string;
}
interface PixelBlock {
  images: string[];
  route: string;
  report: ReportLine[];
  seeds: number[];
}

let fake: Awaited<ReturnType<typeof startOpenAIFake>>;
let t: TestServer;
let client: OpenAI;

beforeAll(async () => {
  fake = await startOpenAIFake();
  t = await startTestServer({ env: { OPENAI_API_KEY: fake.apiKey, OPENAI_BASE_URL: fake.url } });
  client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: 'x', maxRetries: 0 });
});
afterAll(async () => {
  await t?.stop();
  await fake?.close();
});

const png = (width: number, height: number, colour: string, alpha = 1) =>
  sharp({ create: { width, height, channels: 4, background: { ...hex(colour), alpha } } })
    .png()
    .toBuffer();
const hex = (c: string) => ({
  r: Number.parseInt(c.slice(1, 3), 16),
  g: Number.parseInt(c.slice(3, 5), 16),
  b: Number.parseInt(c.slice(5, 7), 16),
});
/** Opaque (keep) everywhere but the bottom-right quarter, which is transparent (edit there). */
async function quarterMask(side: number): Promise<Buffer> {
  const data = Buffer.alloc(side * side * 4);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) data[(y * side + x) * 4 + 3] = x >= side / 2 && y >= side / 2 ? 0 : 255;
  }
  return sharp(data, { raw: { width: side, height: side, channels: 4 } })
    .png()
    .toBuffer();
}
const pixelAt = async (bytes: Buffer, x: number, y: number) => {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * 4;
  return [data[at], data[at + 1], data[at + 2]];
};
const getImage = async (id: string) => {
  const res = await fetch(`${t.url}/pixel.v1.ImageService/GetImage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
};

describe('openai SDK: request fields', () => {
  it('accepts newer and unknown fields, reporting each as dropped; OpenAI style is not Pixel style', async () => {
    const response = await client.images.generate({
      model: 'pixel/sketch',
      prompt: 'two lemons on a plate',
      size: '256x256',
      user: 'end-user-1',
      style: 'vivid',
      partial_images: 2,
      // Newer than this SDK's types, or not OpenAI's at all: must not be a 400.
      ...({ safety_identifier: 'hashed-user', input_fidelity: 'high', quality: 'ultra' } as object),
    });
    expect(response.data?.[0]?.b64_json).toBeTruthy();
    const pixel = (response as unknown as { pixel: PixelBlock }).pixel;
    const line = (param: string) => pixel.report.find((l) => l.param === param);
    for (const param of ['safety_identifier', 'input_fidelity', 'quality', 'style', 'partial_images']) {
      expect(line(param)?.status, param).toBe('dropped');
    }
    expect(line('style')!.note).toContain('DALL·E 3');
    // `user` goes to OpenAI's models only: on pixel/sketch it is reported as not applying.
    expect(line('providerOptions.openai')?.status).toBe('dropped');
  });

  it("keeps Pixel's own fields working as extra body fields, Pixel's style included", async () => {
    const response = await client.images.generate({
      model: 'pixel/sketch',
      prompt: 'a red apple',
      ...({ style: 'studio-product', seed: 77, aspectRatio: '16:9', negativePrompt: 'blur' } as object),
    });
    const pixel = (response as unknown as { pixel: PixelBlock }).pixel;
    expect(pixel.seeds).toEqual([77]);
    expect(pixel.report.find((l) => l.param === 'style')?.status).not.toBe('dropped');
    const image = await getImage(pixel.images[0]!);
    expect((image.width as number) / (image.height as number)).toBeCloseTo(16 / 9, 1);
  });
});

describe('openai SDK: streaming', () => {
  it('stream: true yields partial images where the model sends them, then image_generation.completed', async () => {
    const stream = await client.images.generate({
      model: 'pixel/sketch',
      prompt: 'a red apple, a lemon and a pear',
      size: '256x256',
      stream: true,
      partial_images: 2,
    });
    const events = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.type)).toEqual([
      'image_generation.partial_image',
      'image_generation.partial_image',
      'image_generation.completed',
    ]);
    const partials = events.filter((e) => e.type === 'image_generation.partial_image');
    expect(partials.map((p) => p.partial_image_index)).toEqual([0, 1]);
    const done = events[2]!;
    if (done.type !== 'image_generation.completed') throw new Error('unreachable');
    const bytes = Buffer.from(done.b64_json, 'base64');
    expect((await sharp(bytes).metadata()).width).toBe(256);
    expect(done.size).toBe('256x256');
    expect(done.output_format).toBe('png');
    // Each partial is a real, different picture on the way to the final one.
    const frames = [...partials.map((p) => p.b64_json), done.b64_json];
    expect(new Set(frames).size).toBe(3);
    const pixel = (done as unknown as { pixel: PixelBlock }).pixel;
    expect(pixel.images[0]).toMatch(/^img_/);
    expect(pixel.report.find((l) => l.param === 'partial_images')).toMatchObject({
      status: 'native',
      sent: 2,
    });
    // The streamed image is the stored one.
    expect((await getImage(pixel.images[0]!)).sha256).toBeTruthy();
  });

  it('GPT image models stream OpenAI’s own partial images before completed; the final image is the stored one', async () => {
    fake.reset();
    const stream = await client.images.generate({
      model: 'gpt-image-1.5',
      prompt: 'a cup of coffee',
      quality: 'low',
      stream: true,
      partial_images: 2,
    });
    const events = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.type)).toEqual([
      'image_generation.partial_image',
      'image_generation.partial_image',
      'image_generation.completed',
    ]);
    // Pixel asked OpenAI to stream, with the partial images the caller asked for.
    const sent = fake.requests.find((r) => r.path === '/v1/images/generations')!.body;
    expect(sent).toMatchObject({ model: 'gpt-image-1.5', stream: true, partial_images: 2 });
    const partials = events.filter((e) => e.type === 'image_generation.partial_image');
    expect(partials.map((p) => p.partial_image_index)).toEqual([0, 1]);
    for (const p of partials)
      expect(p).toMatchObject({ size: '1024x1024', quality: 'low', output_format: 'png' });
    const done = events[2]!;
    if (done.type !== 'image_generation.completed') throw new Error('unreachable');
    const pixel = (done as unknown as { pixel: PixelBlock }).pixel;
    expect(pixel.route).toBe('openai/gpt-image-1.5');
    expect(pixel.report.find((l) => l.param === 'partial_images')).toMatchObject({
      status: 'native',
      sent: 2,
    });
    // The stored image is the completed one, not a partial: same bytes, and its pixels are no partial's.
    const stored = await getImage(pixel.images[0]!);
    const sha = (b64: string) => createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex');
    expect(stored.sha256).toBe(sha(done.b64_json));
    const raw = (b64: string) => sharp(Buffer.from(b64, 'base64')).removeAlpha().raw().toBuffer();
    const final = await raw(done.b64_json);
    for (const p of partials) expect(Buffer.compare(await raw(p.b64_json), final)).not.toBe(0);
    // Partials are not stored: one image for this request.
    const listed = await fetch(`${t.url}/pixel.v1.ImageService/ListImages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ promptContains: 'a cup of coffee' }),
    });
    expect(((await listed.json()) as { images: unknown[] }).images).toHaveLength(1);
  });

  it('GPT image edits stream image_edit.partial_image events from OpenAI, then image_edit.completed', async () => {
    fake.reset();
    const stream = await client.images.edit({
      model: 'gpt-image-1.5',
      image: await toFile(await png(64, 64, '#ff8800'), 'o.png', { type: 'image/png' }),
      prompt: 'an orange on a plate',
      stream: true,
      partial_images: 1,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(['image_edit.partial_image', 'image_edit.completed']);
    const sent = fake.requests.find((r) => r.path === '/v1/images/edits')!.body;
    expect(sent).toMatchObject({ stream: 'true', partial_images: '1' });
  });

  it('a server error mid-stream is retried; the partial indices the caller sees still only go up', async () => {
    fake.reset();
    fake.failStream({ afterPartials: 1, kind: 'server_error' });
    const stream = await client.images.generate({
      model: 'gpt-image-1.5',
      prompt: 'a bowl of cherries',
      stream: true,
      partial_images: 2,
    });
    const events = [];
    for await (const event of stream) events.push(event);
    expect(
      events.map((e) => (e.type === 'image_generation.partial_image' ? e.partial_image_index : e.type)),
    ).toEqual([0, 1, 'image_generation.completed']);
    expect(fake.requests.filter((r) => r.path === '/v1/images/generations')).toHaveLength(2);
  });

  it('an OpenAI error mid-stream, after a partial image, reaches the SDK as an error it raises', async () => {
    fake.reset();
    // A refusal of the generated picture: not retried, so the caller sees it after the first partial.
    fake.failStream({ afterPartials: 1, kind: 'moderation' });
    const stream = await client.images.generate({
      model: 'gpt-image-1.5',
      prompt: 'something the safety system refuses',
      stream: true,
      partial_images: 2,
    });
    const seen: string[] = [];
    const failure = await (async () => {
      for await (const event of stream) seen.push(event.type);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['image_generation.partial_image']);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect(failure).toMatchObject({ code: 'content_moderated' });
  });

  it('n > 1 streams one completed event per image; stream: false is a plain JSON answer', async () => {
    const stream = await client.images.generate({
      model: 'pixel/sketch',
      prompt: 'grapes',
      n: 2,
      stream: true,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(['image_generation.completed', 'image_generation.completed']);
    const plain = await client.images.generate({ model: 'pixel/sketch', prompt: 'grapes', stream: false });
    expect(plain.data).toHaveLength(1);
  });

  it('a provider failure after the stream opened arrives as an error event the SDK raises', async () => {
    fake.reset();
    fake.inject({ kind: 'moderation', times: 1 });
    const stream = await client.images.generate({ model: 'gpt-image-1.5', prompt: 'x', stream: true });
    const seen: string[] = [];
    const failure = await (async () => {
      for await (const event of stream) seen.push(event.type);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([]);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect(failure).toMatchObject({ code: 'content_moderated' });
  });

  it('a request refused up front is a plain HTTP error the SDK raises, even when streaming', async () => {
    await expect(
      client.images.generate({ model: 'no-such-model', prompt: 'x', stream: true }),
    ).rejects.toMatchObject({ status: 404, code: 'unknown_model' });
  });
});

describe('openai SDK: edits', () => {
  it('pixel/sketch draws over the image, offline; the upload is stored and recorded as the parent', async () => {
    const source = await png(300, 200, '#0000ff');
    const response = await client.images.edit({
      model: 'pixel/sketch',
      image: await toFile(source, 'blue.png', { type: 'image/png' }),
      prompt: 'a red apple',
      size: '512x512',
    });
    const bytes = Buffer.from(response.data![0]!.b64_json!, 'base64');
    expect((await sharp(bytes).metadata()).width).toBe(512);
    // The corner shows the input image; the middle shows the drawn apple.
    expect(await pixelAt(bytes, 2, 2)).toEqual([0, 0, 255]);
    expect(await pixelAt(bytes, 256, 256)).not.toEqual([0, 0, 255]);
    const pixel = (response as unknown as { pixel: PixelBlock }).pixel;
    expect(pixel.report.find((l) => l.param === 'image')).toMatchObject({
      status: 'native',
      sent: '1 image',
    });
    const edited = await getImage(pixel.images[0]!);
    const parent = await getImage(edited.parentId as string);
    expect(parent).toMatchObject({ model: 'upload', width: 300, height: 200 });
  });

  it('an image Pixel made, sent back, is the parent itself; a mask keeps the opaque area untouched', async () => {
    const made = await client.images.generate({
      model: 'pixel/sketch',
      prompt: 'a plain wall',
      size: '256x256',
    });
    const madeId = (made as unknown as { pixel: PixelBlock }).pixel.images[0]!;
    const original = Buffer.from(made.data![0]!.b64_json!, 'base64');
    // Opaque everywhere (keep), transparent in the bottom-right quarter (edit there).
    const mask = await quarterMask(256);
    const response = await client.images.edit({
      model: 'pixel/sketch',
      image: await toFile(original, 'wall.png', { type: 'image/png' }),
      mask: await toFile(mask, 'mask.png', { type: 'image/png' }),
      prompt: 'a lemon, a lime, an orange, a plum, a pear, an apple',
      size: '256x256',
    });
    const pixel = (response as unknown as { pixel: PixelBlock }).pixel;
    expect((await getImage(pixel.images[0]!)).parentId).toBe(madeId);
    const edited = Buffer.from(response.data![0]!.b64_json!, 'base64');
    // Every pixel of the kept (opaque) area is the original's.
    const [a, b] = await Promise.all(
      [original, edited].map((x) =>
        sharp(x).removeAlpha().extract({ left: 0, top: 0, width: 256, height: 128 }).raw().toBuffer(),
      ),
    );
    expect(Buffer.compare(a!, b!)).toBe(0);
  });

  it('GPT image edits go to OpenAI’s /images/edits with the images, the mask and input_fidelity', async () => {
    fake.reset();
    const response = await client.images.edit({
      model: 'gpt-image-1.5',
      image: [
        await toFile(await png(64, 64, '#ff0000'), 'a.png', { type: 'image/png' }),
        await toFile(await png(64, 64, '#00ff00'), 'b.png', { type: 'image/png' }),
      ],
      mask: await toFile(await png(64, 64, '#000000', 0), 'mask.png', { type: 'image/png' }),
      prompt: 'combine them on a plate',
      size: '1024x1024',
      input_fidelity: 'high',
    });
    expect(response.data).toHaveLength(1);
    const edits = fake.requests.filter((r) => r.path === '/v1/images/edits');
    expect(edits).toHaveLength(1);
    const body = edits[0]!.body as Record<string, unknown>;
    expect(body).toMatchObject({ model: 'gpt-image-1.5', input_fidelity: 'high' });
    expect(body.images).toHaveLength(2);
    expect(body.mask).toBeGreaterThan(0);
    const pixel = (response as unknown as { pixel: PixelBlock }).pixel;
    expect(pixel.route).toBe('openai/gpt-image-1.5');
    const stored = await getImage(pixel.images[0]!);
    expect(stored.parentId).toMatch(/^img_/);
  });

  it('an edit under an Idempotency-Key replays for the same image and is refused for another', async () => {
    const edit = async (colour: string) =>
      client.images.edit(
        {
          model: 'pixel/sketch',
          image: await toFile(await png(64, 64, colour), 'in.png', { type: 'image/png' }),
          prompt: 'a plum',
        },
        { headers: { 'Idempotency-Key': 'edit-plum-1' } },
      );
    const first = (await edit('#336699')) as unknown as { pixel: PixelBlock & { replayed: boolean } };
    const again = (await edit('#336699')) as unknown as { pixel: PixelBlock & { replayed: boolean } };
    expect(again.pixel.replayed).toBe(true);
    expect(again.pixel.images).toEqual(first.pixel.images);
    await expect(edit('#993366')).rejects.toMatchObject({ status: 400, param: 'idempotency_key' });
  });

  it('edits stream as image_edit.completed', async () => {
    const stream = await client.images.edit({
      model: 'pixel/sketch',
      image: await toFile(await png(64, 64, '#00ff00'), 'g.png', { type: 'image/png' }),
      prompt: 'a cherry',
      stream: true,
    });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(['image_edit.completed']);
  });

  it('a model that takes no input image is a 400 naming the model, and nothing is stored', async () => {
    const before = fake.requests.length;
    const error = await client.images
      .edit({
        model: 'fal/fal-ai/flux/dev',
        image: await toFile(await png(64, 64, '#ffffff'), 'w.png', { type: 'image/png' }),
        prompt: 'x',
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toContain(
      'fal/fal-ai/flux/dev takes no input image',
    );
    expect(fake.requests.length).toBe(before);
  });

  it('a file over the upload limit is a 413 naming image', async () => {
    await expect(
      client.images.edit({
        model: 'pixel/sketch',
        image: await toFile(Buffer.alloc(26 * 1024 * 1024), 'big.png', { type: 'image/png' }),
        prompt: 'x',
      }),
    ).rejects.toMatchObject({ status: 413, param: 'image' });
  });

  it('a file that is not an image is a 400 naming the field', async () => {
    await expect(
      client.images.edit({
        model: 'pixel/sketch',
        image: await toFile(Buffer.from('not an image'), 'x.png', { type: 'image/png' }),
        prompt: 'x',
      }),
    ).rejects.toMatchObject({ status: 400, param: 'image[0]' });
  });
});

describe('openai SDK: models', () => {
  it('retrieves a model whose id has a slash, an alias and a bare OpenAI id; unknown is a 404', async () => {
    const sketch = await client.models.retrieve('pixel/sketch');
    expect(sketch).toMatchObject({ id: 'pixel/sketch', object: 'model', owned_by: 'pixel' });
    expect((sketch as unknown as { pixel: { available: boolean } }).pixel.available).toBe(true);
    const gpt = await client.models.retrieve('gpt-image-1.5');
    expect(gpt.id).toBe('openai/gpt-image-1.5');
    const alias = await client.models.retrieve('flux-dev');
    expect(alias).toMatchObject({ id: 'flux-dev', owned_by: 'pixel' });
    await expect(client.models.retrieve('openai/gpt-image-9')).rejects.toMatchObject({ status: 404 });
    await expect(client.models.retrieve('%zz')).rejects.toMatchObject({ status: 404 });
    expect((await fetch(`${t.url}/v1/models/openai%2Fgpt-image-1.5`)).status).toBe(200);
  });

  it('lists the models that can run here first, the others marked with the reason', async () => {
    const models = [];
    for await (const model of client.models.list())
      models.push(model as typeof model & { pixel: { available: boolean; unavailable_reason?: string } });
    const firstUnavailable = models.findIndex((m) => !m.pixel.available);
    expect(firstUnavailable).toBeGreaterThan(0);
    expect(models.slice(0, firstUnavailable).map((m) => m.id)).toEqual(
      expect.arrayContaining(['pixel/sketch', 'openai/gpt-image-1.5']),
    );
    expect(models.slice(firstUnavailable).every((m) => !m.pixel.available)).toBe(true);
    const fal = models.find((m) => m.id === 'fal/fal-ai/flux/dev')!;
    expect(fal.pixel.unavailable_reason).toContain('fal is not configured');
  });
});
