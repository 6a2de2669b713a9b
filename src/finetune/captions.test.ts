import { rmSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempPlatform } from '../jobs/testing.ts';
import { FAKE_ANTHROPIC_KEY, startFakeAnthropicJudge } from '../quality/judges/fakes/anthropic.ts';
import type { FakeJudgeServer } from '../quality/judges/fakes/brain.ts';
import { LOCAL_TEAM } from '../server/auth.ts';
import { createInspectCaptioner } from './captions.ts';
import { readDatasetFolder } from './folder.ts';
import { datasetFolder, productPhoto } from './testing.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
let anthropic: FakeJudgeServer;
beforeAll(async () => {
  anthropic = await startFakeAnthropicJudge();
});
afterAll(async () => {
  await anthropic?.close();
});

async function folderFiles(count = 3) {
  const dir = await datasetFolder(count);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return readDatasetFolder(dir);
}

const textOf = (bytes: Uint8Array | undefined) => (bytes ? new TextDecoder().decode(bytes) : undefined);

describe('captions written by a model when asked (--captions vlm)', () => {
  it('offline, the pixel/inspect stand-in writes a plain caption from what it measures, and says so', async () => {
    const caption = await createInspectCaptioner().caption(
      { bytes: await productPhoto({ variant: 2 }), mediaType: 'image/png' },
      'bakery',
    );
    expect(caption).toBe(
      'a purple bakery product on a light grey backdrop (pixel/inspect stand-in: colours measured, nothing recognised)',
    );
  });

  it('captions every image without a caption file, keeps the hand-written one, and packs each as .txt beside it', async () => {
    const env = await tempPlatform();
    cleanups.push(() => env.close());
    const { datasets } = env.platform.finetunes;
    const dataset = await datasets.createFromFiles({
      team: LOCAL_TEAM,
      name: 'ube-cakes',
      category: 'bakery',
      source: 'test',
      files: await folderFiles(3),
      captions: 'vlm',
    });
    expect(dataset.images.map((i) => [i.file, i.caption, i.captionBy])).toEqual([
      ['01.png', 'a ube cake on a grey counter', undefined],
      [
        '02.png',
        'a purple bakery product on a light grey backdrop (pixel/inspect stand-in: colours measured, nothing recognised)',
        'pixel/inspect',
      ],
      [
        '03.png',
        'a purple bakery product on a light grey backdrop (pixel/inspect stand-in: colours measured, nothing recognised)',
        'pixel/inspect',
      ],
    ]);
    // Kept with the dataset (read back from the table), and in the trainers' zip.
    const again = await datasets.get(LOCAL_TEAM, 'ube-cakes');
    expect(again.images[1]).toMatchObject({
      caption: dataset.images[1]!.caption,
      captionBy: 'pixel/inspect',
    });
    const zip = unzipSync(await datasets.zip(again));
    expect(Object.keys(zip).sort()).toEqual(['01.png', '01.txt', '02.png', '02.txt', '03.png', '03.txt']);
    expect(textOf(zip['01.txt'])).toBe('a ube cake on a grey counter');
    expect(textOf(zip['03.txt'])).toBe(dataset.images[2]!.caption);

    await expect(
      datasets.createFromFiles({
        team: LOCAL_TEAM,
        name: 'other',
        category: 'bakery',
        source: 'test',
        files: await folderFiles(3),
        captions: 'gpt',
      }),
    ).rejects.toMatchObject({
      field: 'captions',
      message: expect.stringMatching(/captions must be one of vlm/),
    });
  }, 60_000);

  it("asks the judge's vision provider for each caption (fake Anthropic), and an error names the file", async () => {
    const env = await tempPlatform({
      PIXEL_FINETUNE_CAPTION_MODEL: 'anthropic/claude-haiku-4-5',
      ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: anthropic.baseURL,
    });
    cleanups.push(() => env.close());
    const { datasets } = env.platform.finetunes;
    let n = 0;
    anthropic.brain.caption = () => `a purple ube cake on a pale grey counter, shot ${++n}`;
    anthropic.behaviour = 'answer';
    const before = anthropic.requests.length;
    const dataset = await datasets.createFromFiles({
      team: LOCAL_TEAM,
      name: 'ube-cakes',
      category: 'bakery',
      source: 'test',
      files: await folderFiles(3),
      captions: 'vlm',
    });
    expect(dataset.images.slice(1).map((i) => [i.caption, i.captionBy])).toEqual([
      ['a purple ube cake on a pale grey counter, shot 1', 'anthropic/claude-haiku-4-5'],
      ['a purple ube cake on a pale grey counter, shot 2', 'anthropic/claude-haiku-4-5'],
    ]);
    const asked = anthropic.requests.slice(before);
    expect(asked).toHaveLength(2);
    expect(JSON.stringify(asked[0]!.body)).toContain('bakery product photo');

    anthropic.behaviour = { status: 529 };
    const error = await datasets
      .createFromFiles({
        team: LOCAL_TEAM,
        name: 'refused',
        category: 'bakery',
        source: 'test',
        files: await folderFiles(3),
        captions: 'vlm',
      })
      .catch((e: unknown) => e);
    anthropic.behaviour = 'answer';
    expect(error).toMatchObject({
      field: 'images.02.png',
      message: expect.stringMatching(/^02\.png: the caption by anthropic\/claude-haiku-4-5 failed: /),
    });
    await expect(datasets.get(LOCAL_TEAM, 'refused')).rejects.toMatchObject({ code: 'not_found' });
  }, 60_000);
});
