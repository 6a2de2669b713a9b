import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productPhoto } from '../finetune/testing.ts';
import { FinetuneService } from '../gen/pixel/v1/finetunes_pb.ts';
import { ImageService } from '../gen/pixel/v1/images_pb.ts';
import { waitFor } from '../jobs/testing.ts';
import { startTestServer, type TestServer } from './test-support.ts';

let t: TestServer;
const transport = () => createConnectTransport({ baseUrl: t.url, httpVersion: '1.1' });

beforeAll(async () => {
  t = await startTestServer({});
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

describe('pixel.v1.FinetuneService on the embedded server (queue worker)', () => {
  it('uploads a dataset, trains on sketch in the background, promotes, and ImageService serves ft/<name>', async () => {
    const c = createClient(FinetuneService, transport());
    const images = await Promise.all(
      [0, 1, 2, 3].map(async (i) => ({
        file: `cake-${i}.png`,
        content: await productPhoto({ variant: i }),
        ...(i === 0 && { caption: 'a ube cake' }),
      })),
    );
    const dataset = await c.createDataset({ name: 'ube-cakes', category: 'bakery', images, captions: 'vlm' });
    expect(dataset.images.map((i) => i.captionBy ?? null)).toEqual([
      null,
      'pixel/inspect',
      'pixel/inspect',
      'pixel/inspect',
    ]);
    expect(dataset.images[1]!.caption).toMatch(
      /^a purple bakery product on a light grey backdrop \(pixel\/inspect stand-in/,
    );
    expect(dataset.images.map((i) => i.file)).toEqual([
      'cake-0.png',
      'cake-1.png',
      'cake-2.png',
      'cake-3.png',
    ]);
    expect(dataset.images[0]!.imageId).toMatch(/^img_/);

    const refused = await c
      .createDataset({
        name: 'dupes',
        category: 'bakery',
        images: [images[0]!, images[1]!, { ...images[0]!, file: 'again.png' }],
      })
      .catch((e: unknown) => ConnectError.from(e));
    expect(refused).toBeInstanceOf(ConnectError);
    expect((refused as ConnectError).code).toBe(Code.InvalidArgument);
    expect((refused as ConnectError).rawMessage).toBe(
      'images.again.png: again.png is a duplicate of cake-0.png (same bytes)',
    );

    const started = await c.startFinetune({
      dataset: 'ube-cakes',
      backend: 'sketch',
      baseModel: 'pixel/sketch',
      trigger: 'TOK',
      classNoun: 'ube cake',
    });
    expect(started).toMatchObject({ state: 'queued', model: 'ft/ube-cakes/v1' });
    const done = await waitFor(
      'the fine-tune to finish',
      async () => {
        const job = await c.getFinetune({ id: started.id });
        return job.state === 'succeeded' || job.state === 'failed' ? job : undefined;
      },
      { timeoutMs: 150_000, everyMs: 500 },
    );
    expect(done.state).toBe('succeeded');
    expect(done.promoted).toBe(true);
    expect(done.evaluation?.passed).toBe(true);
    expect((done.evaluation?.pairwise as { winRate: number } | undefined)?.winRate).toBeGreaterThan(0.5);
    expect((await c.listFinetunes({})).finetunes.map((f) => f.id)).toContain(started.id);

    const generated = await createClient(ImageService, transport()).generate({
      model: 'ft/ube-cakes',
      prompt: 'a ube cake on a plate',
      width: 256,
      height: 256,
    });
    expect(generated.model).toBe('ft/ube-cakes');
    expect(generated.report.find((l) => l.param === 'prompt')?.note).toBe(
      'fine-tune ft/ube-cakes: trigger phrase "TOK ube cake" inserted',
    );
  }, 300_000);
});
