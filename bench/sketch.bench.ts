import sharp from 'sharp';
import { encodeAs } from '../src/postprocess/formats.ts';
import { renderSketch } from '../src/sketch/render.ts';
import { type BenchSection, percentile, round } from './types.ts';

const SIDE = 1024;
const WARMUP = 5;
const RUNS = 40;
const PROMPT = 'ribeye steak with broccoli, a red apple and a bottle of wine on a wooden table';

async function measure(
  run: (i: number) => Promise<number>,
): Promise<{ p50: number; p95: number; bytes: number }> {
  for (let i = 0; i < WARMUP; i++) await run(i);
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    bytes = await run(i);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95), bytes };
}

/** pixel/sketch latency at 1024×1024 per format, next to sharp encoding a plain canvas of the same size (the floor). */
export async function bench(): Promise<BenchSection> {
  const rows: BenchSection['rows'] = [];
  for (const format of ['png', 'jpeg', 'webp'] as const) {
    const floor = await measure(async () => {
      const canvas = sharp({ create: { width: SIDE, height: SIDE, channels: 3, background: '#e0e0e0' } });
      return (await encodeAs(canvas, format).toBuffer()).byteLength;
    });
    const sketch = await measure(
      async (i) =>
        (
          await renderSketch({
            prompt: PROMPT,
            width: SIDE,
            height: SIDE,
            seed: i,
            style: 'photographic',
            format,
            background: 'opaque',
          })
        ).bytes.byteLength,
    );
    rows.push({
      format,
      'baseline: sharp encode p50 ms': round(floor.p50),
      'baseline p95 ms': round(floor.p95),
      'pixel/sketch p50 ms': round(sketch.p50),
      'pixel/sketch p95 ms': round(sketch.p95),
      'sketch/baseline p50': round(sketch.p50 / floor.p50),
      'sketch KiB': round(sketch.bytes / 1024, 1),
    });
  }
  return {
    title: `pixel/sketch render latency, ${SIDE}x${SIDE}`,
    rows,
    notes: [
      `${RUNS} sequential renders per row after ${WARMUP} warm-up, seeds 0..${RUNS - 1}`,
      'baseline: sharp encoding a flat canvas of the same size with the same encoder settings (the encode floor)',
    ],
  };
}
