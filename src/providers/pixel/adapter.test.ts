import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { type ModelEntry, ModelEntrySchema } from '../../models/schema.ts';
import { PixelError } from '../../protocol/errors.ts';
import { renderSketch } from '../../sketch/render.ts';
import type { ProviderProgress } from '../types.ts';
import { createPixelAdapter } from './adapter.ts';
import { provider } from './index.ts';

const model: ModelEntry = ModelEntrySchema.parse({
  id: 'pixel/sketch',
  provider: 'pixel',
  providerModelId: 'sketch',
  transport: 'local',
  family: 'sketch',
  displayName: 'Pixel sketch (offline placeholder)',
  sizes: { kind: 'free', multipleOf: 1, minSide: 64, maxSide: 8192, default: { width: 1024, height: 1024 } },
  cfg: null,
  steps: null,
  seed: { min: 0, max: 4294967295 },
  negativePrompt: true,
  styles: null,
  imagesPerCall: 16,
  formats: ['png', 'jpeg', 'webp'],
  defaultFormat: 'png',
  transparentBackground: true,
  promptMaxLength: 32000,
  price: { kind: 'free' },
  status: { state: 'active' },
});

const body = {
  prompt: 'a bowl of salad and a lemon',
  width: 160,
  height: 96,
  seed: 4294967294,
  n: 3,
  format: 'png',
  background: 'opaque',
};
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function failure(promise: Promise<unknown>): Promise<PixelError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!PixelError.isInstance(error)) throw new Error(`expected a PixelError, got ${String(error)}`);
  return error;
}

describe('pixel adapter', () => {
  it('is always configured, with no environment', () => {
    expect(provider.name).toBe('pixel');
    expect(provider.fromEnv({})?.name).toBe('pixel');
  });

  it('renders n images with consecutive seeds, wrapping at 2^32, and reports progress', async () => {
    const progress: ProviderProgress[] = [];
    const result = await createPixelAdapter().generate({
      model,
      body,
      count: 3,
      onProgress: (p) => progress.push(p),
    });
    expect(result.images.map((i) => i.seed)).toEqual([4294967294, 4294967295, 0]);
    // Each image is exactly what the renderer gives for its seed.
    for (const image of result.images) {
      const alone = await renderSketch({ ...body, seed: image.seed!, format: 'png', background: 'opaque' });
      expect(sha(image.bytes)).toBe(sha(alone.bytes));
      expect((await sharp(image.bytes).metadata()).width).toBe(160);
      expect(image.mediaType).toBe('image/png');
    }
    expect(new Set(result.images.map((i) => sha(i.bytes))).size).toBe(3);
    expect(result.notes?.[0]).toBe('pixel/sketch is an offline placeholder renderer, not a diffusion model');
    expect(result.notes?.[1]).toContain('salad');
    expect(result.costUsd).toBe(0);
    expect(progress.map((p) => p.fraction)).toEqual([0, 1 / 3, 2 / 3, 1]);
  });

  it('refuses a bad body field with invalid_argument naming it', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ width: 50 }, 'width'],
      [{ height: '96' }, 'height'],
      [{ seed: -1 }, 'seed'],
      [{ style: 'watercolour' }, 'style'],
      [{ format: 'gif' }, 'format'],
      [{ background: 'auto' }, 'background'],
      [{ n: 0 }, 'n'],
      [{ prompt: '' }, 'prompt'],
      [{ cfg: 7 }, 'cfg'],
    ];
    for (const [patch, field] of cases) {
      const error = await failure(
        createPixelAdapter().generate({ model, body: { ...body, ...patch }, count: Number(patch.n ?? 3) }),
      );
      expect([error.code, error.field]).toEqual(['invalid_argument', field]);
    }
  });

  it('refuses a body whose n disagrees with the call', async () => {
    const error = await failure(createPixelAdapter().generate({ model, body, count: 2 }));
    expect([error.code, error.field]).toEqual(['invalid_argument', 'n']);
  });

  it('refuses a model it does not serve', async () => {
    const error = await failure(
      createPixelAdapter().generate({
        model: { ...model, id: 'pixel/other', providerModelId: 'other' },
        body,
        count: 3,
      }),
    );
    expect(error.code).toBe('not_found');
  });

  it('stops with cancelled when the signal is aborted before or during the work', async () => {
    const before = new AbortController();
    before.abort();
    const early = await failure(
      createPixelAdapter().generate({ model, body, count: 3, signal: before.signal }),
    );
    expect(early.code).toBe('cancelled');

    const during = new AbortController();
    let started = 0;
    const late = await failure(
      createPixelAdapter().generate({
        model,
        body,
        count: 3,
        signal: during.signal,
        onProgress: () => {
          started++;
          if (started === 2) during.abort();
        },
      }),
    );
    expect(late.code).toBe('cancelled');
    expect(started).toBe(2);
  });
});
