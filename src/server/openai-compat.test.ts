import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../models/catalog.ts';
import type { GenerateAndStoreResult, StoredImage } from './image-service.ts';
import {
  mapOpenAIRequest,
  openAIB64Body,
  openAIResponse,
  pixelHeaders,
  REPORT_HEADER_MAX,
} from './openai-compat.ts';

function result(count: number): GenerateAndStoreResult {
  const images = Array.from(
    { length: count },
    (_, i) =>
      ({
        id: `img_${i}`,
        mediaType: 'image/png',
        width: 1024,
        height: 1024,
        seed: i,
        params: {},
        createdAt: new Date(1_767_225_600_000),
      }) as unknown as StoredImage,
  );
  return {
    images,
    // A prompt-like string with quotes, unicode and a marker-looking text must survive untouched.
    report: [
      { param: 'prompt', status: 'native', detail: 'ribeye "prime" – été pixel-b64-slot-x-0' },
    ] as never,
    model: 'openai/gpt-image-1.5',
    route: 'openai/gpt-image-1.5',
    costEstimateUsd: 0.04,
    notes: ['note'],
    replayed: false,
  };
}

describe('openAIB64Body', () => {
  it('is the JSON of openAIResponse with each image as base64, byte for byte', () => {
    for (const count of [1, 3]) {
      const images = Array.from({ length: count }, (_, i) => randomBytes(100_000 + i * 7));
      const r = result(count);
      const body = openAIB64Body(r, images);
      const expected = JSON.stringify(
        openAIResponse(
          r,
          images.map((b) => ({ b64_json: b.toString('base64') })),
        ),
      );
      expect(body.toString('utf8')).toBe(expected);
    }
  });
});

describe('mapOpenAIRequest', () => {
  const catalog = defaultCatalog();
  const map = (body: Record<string, unknown>) => mapOpenAIRequest({ prompt: 'a pear', ...body }, catalog);
  const droppedParams = (body: Record<string, unknown>) => map(body).dropped.map((l) => l.param);

  it.each([
    [{ safety_identifier: 'u' }, ['safety_identifier']],
    [{ input_fidelity: 'high' }, ['input_fidelity']],
    [{ some_future_field: { a: 1 } }, ['some_future_field']],
    [{ quality: 'ultra' }, ['quality']],
    [{ style: 'vivid' }, ['style']],
    [{ style: 'natural' }, ['style']],
    [{ partial_images: 2 }, ['partial_images']],
    [{ partial_images: 2, stream: true }, []],
    [{ user: 'u', moderation: 'low', output_compression: 80 }, []],
    [{ safety_identifier: null, quality: null }, []],
  ])('%j is accepted; dropped: %j', (body, dropped) => {
    expect(droppedParams(body)).toEqual(dropped);
  });

  it("takes Pixel's styles as Pixel's style and OpenAI's as dropped", () => {
    expect(map({ style: 'studio-product' }).input.style).toBe('studio-product');
    expect(map({ style: 'vivid' }).input.style).toBeUndefined();
  });

  it('hints at the camelCase field for a snake_case Pixel field', () => {
    expect(map({ negative_prompt: 'blur' }).dropped[0]!.note).toContain('negativePrompt');
  });

  it('reads stream and partial_images, and still refuses what it cannot mean', () => {
    expect(map({ stream: true, partial_images: 3 })).toMatchObject({ stream: true, partialImages: 3 });
    expect(map({ stream: false }).stream).toBe(false);
    const field = (body: Record<string, unknown>) => {
      try {
        map(body);
      } catch (error) {
        return (error as { field?: string }).field;
      }
      return undefined;
    };
    expect(field({ stream: 'yes' })).toBe('stream');
    expect(field({ partial_images: 9 })).toBe('partial_images');
    expect(field({ size: 'huge' })).toBe('size');
  });

  it('forwards user, moderation and output_compression to OpenAI models only', () => {
    expect(map({ user: 'u' }).input.providerOptions).toEqual({ openai: { user: 'u' } });
  });
});

describe('pixelHeaders', () => {
  it('carries ids, route and the report as ASCII JSON', () => {
    const headers = pixelHeaders(result(2));
    expect(headers['pixel-images']).toBe('img_0,img_1');
    expect(headers['pixel-route']).toBe('openai/gpt-image-1.5');
    expect(headers['pixel-report']).toMatch(/^[\x20-\x7e]+$/);
    expect(JSON.parse(headers['pixel-report']!)).toEqual(result(2).report);
  });

  it('keeps a long report under the header limit and says how many lines it left out', () => {
    const long = result(1);
    long.report = Array.from({ length: 400 }, (_, i) => ({
      param: `p${i}`,
      status: 'native' as const,
      note: 'x'.repeat(60),
    }));
    const headers = pixelHeaders(long);
    expect(headers['pixel-report']!.length).toBeLessThanOrEqual(REPORT_HEADER_MAX);
    const kept = (JSON.parse(headers['pixel-report']!) as unknown[]).length;
    expect(kept).toBeGreaterThan(0);
    expect(Number(headers['pixel-report-omitted'])).toBe(400 - kept);
  });
});
