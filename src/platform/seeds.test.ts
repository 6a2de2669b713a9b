import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFalAdapter } from '../providers/fal/adapter.ts';
import { startFalFake } from '../providers/fal/fake.ts';
import { createPixelAdapter } from '../providers/pixel/index.ts';
import { readLineage } from '../storage/lineage/index.ts';
import { composePlatform } from './compose.ts';
import { platformConfigFromEnv } from './config.ts';

const member = { team: 'local', role: 'member' } as const;

describe('per-image seeds reach the catalogue and the lineage', () => {
  it('a 3-image fal call stores the shared seed with each image index, marked not reproducible', async () => {
    const fake = await startFalFake();
    const dataDir = mkdtempSync(join(tmpdir(), 'pixel-seeds-'));
    const fal = createFalAdapter({
      apiKey: fake.apiKey,
      queueBaseURL: fake.url,
      runBaseURL: fake.runUrl,
      pollIntervalMs: 5,
    });
    const env = { PIXEL_DATA_DIR: dataDir };
    const platform = await composePlatform(platformConfigFromEnv(env), {
      env,
      adapters: new Map([
        ['fal', fal],
        ['pixel', createPixelAdapter()],
      ]),
    });
    try {
      const result = await platform.images.generateAndStore(
        { prompt: 'three plums', model: 'fal/fal-ai/flux/dev', n: 3, seed: 7, width: 512, height: 512 },
        member,
      );
      expect(result.images.map((i) => [i.seed, i.params.seedIndex, i.params.reproducible])).toEqual([
        [7, 0, false],
        [7, 1, false],
        [7, 2, false],
      ]);
      const again = await platform.images.get(result.images[1]!.id, member);
      expect(again.params).toMatchObject({ seedIndex: 1, reproducible: false });
      const lineage = readLineage(result.bytes![2]!, 'image/png').record as {
        params: Record<string, unknown>;
      };
      expect(lineage.params).toMatchObject({ seedIndex: 2, reproducible: false });

      // pixel/sketch returns its own seed per image: each one reproduces its image, nothing extra is recorded.
      const sketch = await platform.images.generateAndStore(
        { prompt: 'two pears', n: 2, seed: 41, width: 64, height: 64 },
        member,
      );
      expect(sketch.images.map((i) => [i.seed, i.params.seedIndex, i.params.reproducible])).toEqual([
        [41, undefined, undefined],
        [42, undefined, undefined],
      ]);
    } finally {
      await platform.close();
      await fake.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
