import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateImage } from 'ai';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-support.ts';

/**
 * The AI SDK (`generateImage` from `ai`) with `@ai-sdk/openai-compatible` pointed at a running server:
 * Pixel's own parameters travel in `providerOptions.pixel`, and the translation report comes back in the
 * response headers (that provider surfaces no provider metadata for image models).
 */

interface ReportLine {
  param: string;
  status: string;
  sent?: unknown;
}

let t: TestServer;
let pixel: ReturnType<typeof createOpenAICompatible>;

beforeAll(async () => {
  t = await startTestServer();
  pixel = createOpenAICompatible({ name: 'pixel', baseURL: `${t.url}/v1`, apiKey: 'x' });
});
afterAll(async () => {
  await t?.stop();
});

const getImage = async (id: string) => {
  const res = await fetch(`${t.url}/pixel.v1.ImageService/GetImage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id }),
  });
  return (await res.json()) as Record<string, unknown>;
};

describe('AI SDK with @ai-sdk/openai-compatible', () => {
  it('seed, aspectRatio and negativePrompt survive in providerOptions.pixel; the report is in the headers', async () => {
    const result = await generateImage({
      model: pixel.imageModel('pixel/sketch'),
      prompt: 'a red apple on a table',
      providerOptions: { pixel: { seed: 4242, aspectRatio: '16:9', negativePrompt: 'blur' } },
    });
    expect(result.images).toHaveLength(1);
    const meta = await sharp(result.images[0]!.uint8Array).metadata();
    expect(meta.width! / meta.height!).toBeCloseTo(16 / 9, 1);
    const headers = result.responses[0]!.headers!;
    const report = JSON.parse(headers['pixel-report']!) as ReportLine[];
    expect(report.find((l) => l.param === 'seed')).toMatchObject({ status: 'native', sent: 4242 });
    expect(report.find((l) => l.param === 'negativePrompt')).toBeDefined();
    const [id] = headers['pixel-images']!.split(',');
    const stored = await getImage(id!);
    expect(stored.seed).toBe(4242);
    expect(stored.negativePrompt).toBe('blur');
    expect(headers['pixel-route']).toBe('pixel/sketch');
  });

  it('edits with prompt.images go to /v1/images/edits and record the parent', async () => {
    const source = await sharp({ create: { width: 128, height: 128, channels: 3, background: '#00ff00' } })
      .png()
      .toBuffer();
    const result = await generateImage({
      model: pixel.imageModel('pixel/sketch'),
      prompt: { text: 'a cherry', images: [new Uint8Array(source)] },
      size: '256x256',
    });
    expect((await sharp(result.images[0]!.uint8Array).metadata()).width).toBe(256);
    const [id] = result.responses[0]!.headers!['pixel-images']!.split(',');
    expect((await getImage(id!)).parentId).toMatch(/^img_/);
  });
});
