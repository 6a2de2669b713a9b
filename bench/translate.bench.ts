import { defaultCatalog } from '../src/models/catalog.ts';
import { translate } from '../src/translate/translate.ts';
import type { BenchSection } from './types.ts';
import { round } from './types.ts';

/** Translations per second (pure computation, one core), for a few representative requests. */
export async function bench(): Promise<BenchSection> {
  const catalog = defaultCatalog();
  const requests = [
    { name: 'sketch, bare prompt', input: { prompt: 'a ribeye steak', model: 'pixel/sketch', seed: 1 } },
    {
      name: 'openai, exact size + style + negative',
      input: {
        prompt: 'a ribeye steak',
        model: 'openai/gpt-image-1.5',
        width: 1000,
        height: 700,
        style: 'studio-product',
        negativePrompt: 'plastic',
      },
    },
    {
      name: 'flux-dev alias, ratio + cfg + seed',
      input: { prompt: 'a ribeye steak', model: 'flux-dev', aspectRatio: '16:9', cfgScale: 9, seed: 3 },
    },
    {
      name: 'stability sd3.5, n=4 split',
      input: { prompt: 'a ribeye steak', model: 'stability/sd3.5-large', n: 4, seed: 0 },
    },
    {
      name: 'comfyui workflow fill',
      input: {
        prompt: 'a ribeye steak',
        model: 'comfyui/sdxl',
        width: 1024,
        height: 768,
        steps: 25,
        seed: 9,
      },
    },
  ];
  const rows: BenchSection['rows'] = [];
  const seed = () => 42;
  for (const { name, input } of requests) {
    for (let i = 0; i < 2000; i++) translate(input, { catalog, randomSeed: seed });
    const iterations = 60_000;
    const started = performance.now();
    for (let i = 0; i < iterations; i++) translate(input, { catalog, randomSeed: seed });
    const seconds = (performance.now() - started) / 1000;
    rows.push({
      request: name,
      'translations/s': Math.round(iterations / seconds),
      'µs each': round((seconds / iterations) * 1e6, 2),
    });
  }
  return {
    title: 'Translation throughput (issue 2; floor: well over 100,000/s on one core)',
    rows,
    notes: [
      'Single thread, validation (zod) included, no I/O; 60,000 translations per row after 2,000 warm-up.',
    ],
  };
}
