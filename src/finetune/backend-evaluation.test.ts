import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tempPlatform, waitFor } from '../jobs/testing.ts';
import { composePlatform } from '../platform/compose.ts';
import { platformConfigFromEnv } from '../platform/config.ts';
import { startA1111Fake } from '../providers/a1111/fake.ts';
import { startReplicateFake } from '../providers/replicate/fake.ts';
import { startReplicateTrainingsFake } from '../providers/replicate/fake-trainings.ts';
import { LOCAL_TEAM } from '../server/auth.ts';
import { startSelfHostedFake } from './backends/fake-self-hosted.ts';
import { startTrainedLookProxy } from './fake-trained.ts';
import { readDatasetFolder } from './folder.ts';
import { datasetFolder, startTestQueue } from './testing.ts';
import type { Finetune } from './types.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const origin = (url: string) => new URL(url).origin;
/** What the trained weights draw, as the fakes' stand-in: the dataset's purple product. */
const purple = (prompt: unknown) => String(prompt).replace('TOK ', 'purple TOK ');

const finished = (service: { get(id: string): Promise<Finetune> }, id: string) =>
  waitFor(
    `fine-tune ${id} to finish`,
    async () => {
      const job = await service.get(id);
      return ['succeeded', 'failed', 'cancelled'].includes(job.state) ? job : undefined;
    },
    { timeoutMs: 150_000, everyMs: 100 },
  );

async function withDataset(platform: Awaited<ReturnType<typeof tempPlatform>>['platform'], name: string) {
  const dir = await datasetFolder(3);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  await platform.finetunes.datasets.createFromFiles({
    team: LOCAL_TEAM,
    name,
    category: 'pork',
    source: 'test',
    files: await readDatasetFolder(dir),
  });
}

/** A self-hosted GPU box and AUTOMATIC1111 (both fakes), the trained LoRA drawing purple when `learned`. */
async function selfHosted(learned: boolean) {
  const box = await startSelfHostedFake({ token: 'box-secret' });
  cleanups.push(() => box.close());
  const a1111 = await startA1111Fake();
  cleanups.push(() => a1111.close());
  const proxy = await startTrainedLookProxy({
    route: () => origin(a1111.url),
    // The WebUI takes the <lora:…> tag out of the prompt and applies the LoRA; the fake would draw the tag.
    rewrite: (_method, path, body) => {
      const prompt = String(body.prompt);
      if (path !== '/sdapi/v1/txt2img' || !/<lora:/.test(prompt)) return undefined;
      const untagged = prompt.replace(/\s*<lora:[^>]+>/g, '');
      return { ...body, prompt: learned ? purple(untagged) : untagged };
    },
  });
  cleanups.push(() => proxy.close());
  const env = {
    PIXEL_SELFHOSTED_TRAINER_URL: box.url,
    PIXEL_SELFHOSTED_TRAINER_TOKEN: 'box-secret',
    A1111_BASE_URL: proxy.url,
    PIXEL_FINETUNE_POLL_MS: '200',
  };
  return { box, a1111, proxy, env };
}

const startPork = (platform: Awaited<ReturnType<typeof tempPlatform>>['platform']) =>
  platform.finetunes.service.start({
    team: LOCAL_TEAM,
    dataset: 'pork-cuts',
    backend: 'self-hosted',
    base: 'a1111/sdxl',
    trigger: 'TOK',
    classNoun: 'pork chop',
    steps: 500,
  });

describe('a restart during training, on the queue (self-hosted box, fake)', () => {
  it('stops mid-training; a new platform on the same database carries on and finishes exactly once', async () => {
    const { box, a1111, proxy, env } = await selfHosted(true);
    const first = await tempPlatform(env);
    cleanups.push(() => first.close());
    await withDataset(first.platform, 'pork-cuts');
    const queue = await startTestQueue(first.platform);
    const job = await startPork(first.platform);
    await waitFor('training under way', async () => {
      const row = await first.platform.finetunes.service.get(job.id);
      return row.state === 'training' && row.progress >= 0.25;
    });
    await queue.stop();
    await first.platform.close();
    expect(box.trainings.size).toBe(1);

    const again = await composePlatform(platformConfigFromEnv({ ...env, PIXEL_DATA_DIR: first.dir }), {
      env: { ...env, PIXEL_DATA_DIR: first.dir },
    });
    cleanups.push(() => again.close());
    const mid = await again.finetunes.service.get(job.id);
    expect(mid.state).toBe('training');
    const second = await startTestQueue(again);
    cleanups.push(() => second.stop());
    const done = await finished(again.finetunes.service, job.id);

    expect(done).toMatchObject({ state: 'succeeded', progress: 1, promoted: true });
    expect(box.trainings.size).toBe(1);
    expect(await again.finetunes.service.repo.list({ name: 'pork-cuts' })).toHaveLength(1);
    expect(
      again.catalog
        .list()
        .filter((m) => m.id.startsWith('ft/pork-cuts'))
        .map((m) => m.id)
        .sort(),
    ).toEqual(['ft/pork-cuts', 'ft/pork-cuts/v1']);
    // One evaluation: every held-out prompt drawn once by the base and once by the fine-tune.
    const prompts = done.evaluation!.prompts.length;
    expect(a1111.requests.filter((r) => r.path === '/sdapi/v1/txt2img')).toHaveLength(2 * prompts);
    expect(proxy.rewritten).toBe(prompts);
    expect(done.evaluation!.passed).toBe(true);
  }, 180_000);
});

describe('evaluation of fine-tunes trained at a provider (fakes), with the offline judge', () => {
  it('self-hosted: a LoRA that learned nothing stays unpromoted', async () => {
    const { env } = await selfHosted(false);
    const t = await tempPlatform(env);
    cleanups.push(() => t.close());
    await withDataset(t.platform, 'pork-cuts');
    const queue = await startTestQueue(t.platform);
    cleanups.push(() => queue.stop());
    const done = await finished(t.platform.finetunes.service, (await startPork(t.platform)).id);
    expect(done).toMatchObject({ state: 'succeeded', promoted: false });
    expect(done.evaluation).toMatchObject({
      passed: false,
      baseModel: 'a1111/sdxl',
      model: 'ft/pork-cuts/v1',
    });
    expect(done.evaluation!.finetuneScore - done.evaluation!.baseScore).toBeLessThan(0.2);
    expect(t.platform.catalog.get('ft/pork-cuts')).toBeUndefined();
  }, 180_000);

  for (const learned of [true, false]) {
    it(`Replicate: a trained version that ${learned ? 'draws the dataset is promoted' : 'learned nothing stays unpromoted'}`, async () => {
      const trainings = await startReplicateTrainingsFake({ apiKey: 'r8_test_token' });
      cleanups.push(() => trainings.close());
      const images = await startReplicateFake({ apiKey: 'r8_test_token' });
      cleanups.push(() => images.close());
      const trainingPath = /^\/v1\/(trainings|files)(\/|$)|^\/v1\/models(\/[^/]+\/[^/]+)?$|\/versions\//;
      const proxy = await startTrainedLookProxy({
        route: (_method, path) => (trainingPath.test(path) ? trainings.url : origin(images.url)),
        // A version prediction names the trained version (the base runs as an official model).
        rewrite: (method, path, body) => {
          if (!learned || method !== 'POST' || path !== '/v1/predictions' || !body.version) return undefined;
          const input = body.input as Record<string, unknown>;
          return { ...body, input: { ...input, prompt: purple(input.prompt) } };
        },
      });
      cleanups.push(() => proxy.close());
      const t = await tempPlatform({
        REPLICATE_API_TOKEN: 'r8_test_token',
        REPLICATE_BASE_URL: `${proxy.url}/v1`,
        PIXEL_REPLICATE_TRAINING_OWNER: 'acme',
        PIXEL_FINETUNE_POLL_MS: '200',
      });
      cleanups.push(() => t.close());
      await withDataset(t.platform, 'pork-cuts');
      const queue = await startTestQueue(t.platform);
      cleanups.push(() => queue.stop());
      const job = await t.platform.finetunes.service.start({
        team: LOCAL_TEAM,
        dataset: 'pork-cuts',
        backend: 'replicate',
        base: 'replicate/black-forest-labs/flux-dev',
        trigger: 'TOK',
        classNoun: 'pork chop',
        steps: 800,
      });
      const done = await finished(t.platform.finetunes.service, job.id);
      expect(done.state).toBe('succeeded');
      expect(done.weights).toMatchObject({ kind: 'replicate-version' });
      expect(trainings.trainings.size).toBe(1);
      const prompts = done.evaluation!.prompts.length;
      expect(proxy.rewritten).toBe(learned ? prompts : 0);
      expect(done.evaluation!.passed).toBe(learned);
      expect(done.promoted).toBe(learned);
      expect(Boolean(t.platform.catalog.get('ft/pork-cuts'))).toBe(learned);
    }, 180_000);
  }
});
