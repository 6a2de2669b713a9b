import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../models/catalog.ts';
import type { ProviderName } from '../models/schema.ts';
import { PixelError } from '../protocol/errors.ts';
import { createFalAdapter } from '../providers/fal/adapter.ts';
import { startFalFake } from '../providers/fal/fake.ts';
import { createPixelAdapter } from '../providers/pixel/adapter.ts';
import type { ProviderAdapter, ProviderCall } from '../providers/types.ts';
import { generate, imageSeeds, type ProgressEvent } from './generate.ts';

const catalog = defaultCatalog();
const sketch = createPixelAdapter();

/** A stand-in adapter for pipeline logic (providers have their own fakes and contract suite). */
function scripted(
  name: ProviderName,
  behaviour: (call: ProviderCall) => Promise<void> | void,
): ProviderAdapter & { calls: ProviderCall[] } {
  const calls: ProviderCall[] = [];
  return {
    name,
    calls,
    async generate(call) {
      calls.push(call);
      await behaviour(call);
      const width = 1024;
      const height = 768;
      const bytes = await sharp({ create: { width, height, channels: 3, background: '#884422' } })
        .png()
        .toBuffer();
      return {
        images: Array.from({ length: call.count }, () => ({ bytes, mediaType: 'image/png', width, height })),
        requestId: `${name}-req`,
      };
    },
  };
}

const unavailable = () => {
  throw new PixelError({
    code: 'unavailable',
    reason: 'provider_unavailable',
    retryable: true,
    message: 'down',
  });
};

describe('generate', () => {
  it('runs pixel/sketch end to end and delivers the exact size in every image', async () => {
    const events: ProgressEvent[] = [];
    const outcome = await generate(
      { prompt: 'three lemons', width: 300, height: 200, n: 3, seed: 7 },
      { catalog, adapter: (p) => (p === 'pixel' ? sketch : undefined) },
      { onProgress: (e) => events.push(e) },
    );
    expect(outcome.route).toBe('pixel/sketch');
    expect(outcome.images.map((i) => [i.width, i.height, i.seed])).toEqual([
      [300, 200, 7],
      [300, 200, 8],
      [300, 200, 9],
    ]);
    for (const image of outcome.images) {
      const meta = await sharp(image.bytes).metadata();
      expect([meta.width, meta.height]).toEqual([300, 200]);
    }
    expect(events[0]).toEqual({ stage: 'translating' });
    expect(events.some((e) => e.stage === 'generating')).toBe(true);
    expect(events.at(-1)).toEqual({ stage: 'post-processing', done: 3, total: 3 });
  });

  it('falls back along an alias on a retryable failure and records each attempt', async () => {
    const fal = scripted('fal', unavailable);
    const replicate = scripted('replicate', () => {});
    const adapters = new Map<ProviderName, ProviderAdapter>([
      ['fal', fal],
      ['replicate', replicate],
    ]);
    const outcome = await generate(
      { prompt: 'a pear', model: 'flux-dev', width: 512, height: 512, seed: 3 },
      { catalog, adapter: (p) => adapters.get(p) },
    );
    expect(outcome.route).toBe('replicate/black-forest-labs/flux-dev');
    expect(outcome.attempts.map((a) => [a.route, a.error?.code])).toEqual([
      ['fal/fal-ai/flux/dev', 'unavailable'],
      ['replicate/black-forest-labs/flux-dev', undefined],
    ]);
    // The fallback keeps the seed Pixel chose, so the lineage stays reproducible.
    expect(outcome.images[0]!.seed).toBe(3);
    expect(outcome.images[0]).toMatchObject({ width: 512, height: 512 });
  });

  it('does not fall back on moderation', async () => {
    const fal = scripted('fal', () => {
      throw new PixelError({
        code: 'permission_denied',
        reason: 'content_moderated',
        retryable: false,
        message: 'nope',
      });
    });
    const replicate = scripted('replicate', () => {});
    const adapters = new Map<ProviderName, ProviderAdapter>([
      ['fal', fal],
      ['replicate', replicate],
    ]);
    await expect(
      generate({ prompt: 'a pear', model: 'flux-dev' }, { catalog, adapter: (p) => adapters.get(p) }),
    ).rejects.toMatchObject({
      reason: 'content_moderated',
    });
    expect(replicate.calls).toHaveLength(0);
  });

  it('skips a route that provider is not configured for, and says so when none is', async () => {
    const bfl = scripted('bfl', () => {});
    const outcome = await generate(
      { prompt: 'a pear', model: 'flux-dev' },
      { catalog, adapter: (p) => (p === 'bfl' ? bfl : undefined) },
    );
    expect(outcome.route).toBe('bfl/flux-dev');
    await expect(
      generate({ prompt: 'a pear', model: 'openai/gpt-image-1.5' }, { catalog, adapter: () => undefined }),
    ).rejects.toThrow(/provider openai is not configured/);
  });

  it('splits n into calls and stops the other calls when one fails', async () => {
    let seen = 0;
    const fal = scripted('fal', () => {
      seen++;
      if (seen === 2) unavailable();
    });
    await expect(
      generate(
        { prompt: 'a pear', model: 'fal/fal-ai/flux/dev', n: 12 },
        { catalog, adapter: (p) => (p === 'fal' ? fal : undefined), callConcurrency: 1 },
      ),
    ).rejects.toMatchObject({ code: 'unavailable' });
    expect(fal.calls.length).toBe(2);
  });

  it('cancels when the caller aborts', async () => {
    const controller = new AbortController();
    const fal = scripted('fal', async (call) => {
      controller.abort();
      if (call.signal?.aborted) throw new PixelError({ code: 'cancelled', message: 'cancelled' });
    });
    await expect(
      generate(
        { prompt: 'a pear', model: 'fal/fal-ai/flux/dev' },
        { catalog, adapter: () => fal },
        { signal: controller.signal },
      ),
    ).rejects.toMatchObject({ code: 'cancelled' });
  });
});

describe('per-image seeds', () => {
  it('a 3-image fal call: each image carries the call seed and its index, marked not reproducible', async () => {
    const fake = await startFalFake();
    try {
      const fal = createFalAdapter({
        apiKey: fake.apiKey,
        queueBaseURL: fake.url,
        runBaseURL: fake.runUrl,
        pollIntervalMs: 5,
      });
      const outcome = await generate(
        { prompt: 'three plums', model: 'fal/fal-ai/flux/dev', n: 3, seed: 0, width: 512, height: 512 },
        { catalog, adapter: (p) => (p === 'fal' ? fal : undefined) },
      );
      expect(outcome.images.map((i) => [i.seed, i.seedIndex, i.reproducible])).toEqual([
        [0, 0, false],
        [0, 1, false],
        [0, 2, false],
      ]);
      const line = outcome.translation.report.filter((l) => l.param === 'seed').at(-1)!;
      expect(line.status).toBe('adjusted');
      expect(line.note).toContain('reproducible: false');
      expect(line.note).toContain('images 1, 2, 3');
    } finally {
      await fake.close();
    }
  });

  it('per-image seeds from the provider (pixel/sketch) are reproducible, and no seed line is added', async () => {
    const outcome = await generate(
      { prompt: 'two pears', n: 2, seed: 41, width: 64, height: 64 },
      { catalog, adapter: (p) => (p === 'pixel' ? sketch : undefined) },
    );
    expect(outcome.images.map((i) => [i.seed, i.seedIndex, i.reproducible])).toEqual([
      [41, undefined, true],
      [42, undefined, true],
    ]);
    expect(outcome.translation.report.filter((l) => l.param === 'seed')).toHaveLength(1);
  });

  it.each([
    ['one image: the call seed reproduces it', [{}], 5, [{ seed: 5, reproducible: true }]],
    ['one image: the provider seed wins', [{ seed: 9 }], 5, [{ seed: 9, reproducible: true }]],
    [
      'distinct provider seeds (Stability v1, A1111)',
      [{ seed: 3 }, { seed: 4 }],
      3,
      [
        { seed: 3, reproducible: true },
        { seed: 4, reproducible: true },
      ],
    ],
    [
      'only the first seed known (Replicate): the call seed with indexes',
      [{ seed: 7 }, {}],
      1,
      [
        { seed: 7, seedIndex: 0, reproducible: false },
        { seed: 7, seedIndex: 1, reproducible: false },
      ],
    ],
    ['no seed at all (OpenAI)', [{}, {}], undefined, [{}, {}]],
  ] as const)('%s', (_name, images, callSeed, expected) => {
    expect(imageSeeds(images, callSeed)).toEqual(expected);
  });

  it('the one image a provider kept from a batch of four still shares the batch seed', () => {
    expect(imageSeeds([{ seed: 8 }], 8, 4)).toEqual([{ seed: 8, seedIndex: 0, reproducible: false }]);
  });
});
