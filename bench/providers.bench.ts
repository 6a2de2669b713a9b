import type { ModelEntry } from '../src/models/schema.ts';
import { createOpenAIAdapter } from '../src/providers/openai/adapter.ts';
import { startOpenAIFake } from '../src/providers/openai/fake.ts';
import { DEFAULT_POLICY } from '../src/providers/reliability/policy.ts';
import { withReliability } from '../src/providers/reliability/with-reliability.ts';
import { type BenchSection, percentile, round } from './types.ts';

const CALLS = 300;
const WARMUP = 30;
const FLOOR_MS = 1;

/**
 * Adapter overhead: the same request to the same local OpenAI fake (a real 1024² PNG as b64_json),
 * made three ways, interleaved call by call so drift hits all three alike:
 * a direct fetch + JSON parse + base64 decode (the baseline), the OpenAI adapter, and the adapter
 * inside the reliability wrapper (breaker, slots, deadline signal).
 */
export async function bench(): Promise<BenchSection> {
  const fake = await startOpenAIFake();
  try {
    const body = { model: 'gpt-image-1.5', prompt: 'a ribeye steak on a wooden board', size: '1024x1024' };
    const model = { id: 'openai/gpt-image-1.5', providerModelId: 'gpt-image-1.5' } as ModelEntry;
    const adapter = createOpenAIAdapter({ apiKey: fake.apiKey, baseURL: fake.url });
    const reliable = withReliability(adapter, DEFAULT_POLICY);
    const headers = { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' };

    const ways: Record<string, () => Promise<number>> = {
      'direct fetch': async () => {
        const response = await fetch(`${fake.url}/images/generations`, {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
        });
        const json = (await response.json()) as { data: Array<{ b64_json: string }> };
        return Buffer.from(json.data[0]!.b64_json, 'base64').byteLength;
      },
      'openai adapter': async () =>
        (await adapter.generate({ model, body, count: 1 })).images[0]!.bytes.byteLength,
      'adapter + reliability': async () =>
        (await reliable.generate({ model, body, count: 1 })).images[0]!.bytes.byteLength,
    };
    const names = Object.keys(ways);
    const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    let bytes = 0;
    for (let i = 0; i < WARMUP + CALLS; i++) {
      // rotate the order each round so no way always runs first on a warm connection
      for (let k = 0; k < names.length; k++) {
        const name = names[(i + k) % names.length]!;
        const started = performance.now();
        bytes = await ways[name]!();
        if (i >= WARMUP) samples[name]!.push(performance.now() - started);
      }
    }
    const stats = Object.fromEntries(
      names.map((n) => {
        const sorted = samples[n]!.sort((a, b) => a - b);
        return [n, { p50: percentile(sorted, 50), p99: percentile(sorted, 99) }];
      }),
    );
    const base = stats['direct fetch']!;
    const rows = names.map((n) => ({
      path: n,
      'p50 ms': round(stats[n]!.p50, 3),
      'p99 ms': round(stats[n]!.p99, 3),
      'added p50 ms': round(stats[n]!.p50 - base.p50, 3),
      'added p99 ms': round(stats[n]!.p99 - base.p99, 3),
    }));
    const worst = Math.max(...names.map((n) => stats[n]!.p50 - base.p50));
    return {
      title: `Provider adapter overhead (OpenAI fake, ${CALLS} sequential calls each, ${Math.round(bytes / 1024)} KiB PNG)`,
      rows,
      notes: [
        `floor: <= ${FLOOR_MS} ms added at p50 -> ${worst <= FLOOR_MS ? 'met' : 'NOT met'} (worst ${round(worst, 3)} ms)`,
        'the adapter also validates the response schema and reads the image header (image-size; sharp only for GIF) to report its size',
      ],
    };
  } finally {
    await fake.close();
  }
}
