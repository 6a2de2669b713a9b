import { rmSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { generate } from '../../generate/generate.ts';
import { tempPlatform } from '../../jobs/testing.ts';
import { composePlatform } from '../../platform/compose.ts';
import { platformConfigFromEnv } from '../../platform/config.ts';
import { createFalAdapter } from '../../providers/fal/adapter.ts';
import { startFalFake } from '../../providers/fal/fake.ts';
import { startFalTrainingsFake } from '../../providers/fal/fake-trainings.ts';
import { LOCAL_TEAM } from '../../server/auth.ts';
import { readDatasetFolder } from '../folder.ts';
import { datasetFolder } from '../testing.ts';
import type { Finetune } from '../types.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const TRAINERS = [
  {
    base: 'fal/fal-ai/flux/dev',
    app: 'fal-ai/flux-lora-fast-training',
    zipField: 'images_data_url',
    lora: 'fal-ai/flux-lora',
  },
  {
    base: 'fal/fal-ai/flux-2',
    app: 'fal-ai/flux-2-trainer',
    zipField: 'image_data_url',
    lora: 'fal-ai/flux-2/lora',
  },
] as const;

async function setup(base: string, fakeKey = 'fal-test-key:secret') {
  const fake = await startFalTrainingsFake({ apiKey: fakeKey });
  cleanups.push(() => fake.close());
  const vars = {
    FAL_KEY: 'fal-test-key:secret',
    FAL_QUEUE_BASE_URL: fake.url,
    FAL_REST_BASE_URL: fake.url,
  };
  const env = await tempPlatform(vars);
  cleanups.push(() => env.close());
  const dir = await datasetFolder(4);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const { datasets, service } = env.platform.finetunes;
  await datasets.createFromFiles({
    team: LOCAL_TEAM,
    name: 'beef-cuts',
    category: 'beef',
    source: 'test',
    files: await readDatasetFolder(dir),
  });
  const start = () =>
    service.start({
      team: LOCAL_TEAM,
      dataset: 'beef-cuts',
      backend: 'fal',
      base,
      trigger: 'TOK',
      classNoun: 'ribeye steak',
      steps: 600,
    });
  /** Steps the job until it reaches one of `states` (bounded). */
  const until = async (job: Finetune, states: string[]) => {
    let current = job;
    for (let i = 0; i < 20 && !states.includes(current.state); i++) {
      current = (await service.step(current)) ?? (await service.get(job.id));
    }
    return current;
  };
  return { fake, env, vars, service, start, until };
}

describe.each(TRAINERS)(
  'fal training backend: $app (against a fake of fal’s queue and storage)',
  (trainer) => {
    it('uploads the zip to fal storage, submits the trainer, follows the queue with progress, and serves the LoRA', async () => {
      const { fake, env, service, start, until } = await setup(trainer.base);
      const training = await until(await start(), ['training']);
      expect(training.external).toMatchObject({ app: trainer.app, loraEndpoint: trainer.lora });
      const sent = fake.trainings.get(String(training.external!.requestId))!;
      expect(sent.app).toBe(trainer.app);
      if (trainer.app === 'fal-ai/flux-lora-fast-training') {
        expect(sent.input).toMatchObject({ trigger_word: 'TOK', is_style: false, steps: 600 });
      } else {
        expect(sent.input).toMatchObject({ default_caption: 'a photo of TOK ribeye steak', steps: 600 });
        expect(sent.input.trigger_word).toBeUndefined();
      }
      // The zip went through fal's storage (keyed initiate, then a PUT without the key) and is what the trainer got.
      const zipUrl = String(sent.input[trainer.zipField]);
      expect(zipUrl.startsWith(`${fake.url}/files/`)).toBe(true);
      const zip = unzipSync(fake.files.get(zipUrl.slice(`${fake.url}/files/`.length))!);
      const text = (name: string) => new TextDecoder().decode(zip[name]);
      // Every caption carries the trigger phrase; fast training (which ignores trigger_word once captions
      // exist) also gets one for each image without, FLUX.2 uses default_caption for those.
      expect(text('01.txt')).toBe('a photo of TOK ribeye steak, a ube cake on a grey counter');
      if (trainer.app === 'fal-ai/flux-lora-fast-training') {
        expect(Object.keys(zip).sort()).toEqual(
          ['01', '02', '03', '04'].flatMap((n) => [`${n}.png`, `${n}.txt`]),
        );
        expect(text('04.txt')).toBe('a photo of TOK ribeye steak');
      } else {
        expect(Object.keys(zip).sort()).toEqual(['01.png', '01.txt', '02.png', '03.png', '04.png']);
      }
      const put = fake.requests.find((r) => r.method === 'PUT' && r.path.startsWith('/uploads/'))!;
      expect(put.headers.authorization).toBeUndefined();
      expect(
        fake.requests.find((r) => r.path.startsWith('/storage/upload/initiate'))!.headers.authorization,
      ).toBe('Key fal-test-key:secret');

      const seen: number[] = [];
      let current = training;
      for (let i = 0; i < 10 && current.state === 'training'; i++) {
        current = (await service.step(current))!;
        seen.push(current.progress);
      }
      expect(current.state).toBe('evaluating');
      // IN_QUEUE, then the log's 0%, 33%, 67% (kept under 1 until it is done), then done.
      expect(seen).toEqual([0, 0, 0.33 * 0.99, 0.67 * 0.99, 1]);
      expect(current.weights).toMatchObject({
        kind: 'fal-lora',
        endpoint: trainer.lora,
        url: expect.stringMatching(/\/files\/[0-9a-f]+\/pytorch_lora_weights\.safetensors$/),
        scale: 1,
      });
      const weightsUrl = (current.weights as { url: string }).url;

      // The trained version generates through the LoRA endpoint with `loras`, trigger phrase inserted and reported.
      const images = await startFalFake();
      cleanups.push(() => images.close());
      const adapter = createFalAdapter({
        apiKey: images.apiKey,
        queueBaseURL: images.url,
        runBaseURL: images.runUrl,
        pollIntervalMs: 5,
      });
      const outcome = await generate(
        { model: 'ft/beef-cuts/v1', prompt: 'a ribeye steak on slate', seed: 7 },
        { catalog: env.platform.catalog, adapter: (p) => (p === 'fal' ? adapter : undefined) },
      );
      expect(outcome.images).toHaveLength(1);
      const submit = images.requests.find((r) => r.method === 'POST')!;
      expect(submit.path).toBe(`/${trainer.lora}`);
      expect(submit.body).toMatchObject({
        prompt: 'a TOK ribeye steak on slate',
        loras: [{ path: weightsUrl, scale: 1 }],
        seed: 7,
      });
      const line = outcome.translation.report.find((l) => l.param === 'prompt')!;
      expect(line).toMatchObject({ status: 'adjusted', sent: 'a TOK ribeye steak on slate' });
      expect(line.note).toBe(
        `fine-tune ft/beef-cuts/v1: trigger phrase "TOK ribeye steak" inserted; served by ${trainer.lora} with loras [{ path: ${weightsUrl}, scale: 1 }]`,
      );
    }, 120_000);

    it('a restart mid-training carries on from the stored request: one submission, progress goes on', async () => {
      const { fake, env, vars, start, until } = await setup(trainer.base);
      const training = await until(await start(), ['training']);
      const first = (await env.platform.finetunes.service.step(training))!;
      expect(first.state).toBe('training');
      await env.platform.close();

      const fullEnv = { ...vars, PIXEL_DATA_DIR: env.dir };
      const again = await composePlatform(platformConfigFromEnv(fullEnv), { env: fullEnv });
      cleanups.push(() => again.close());
      const service = again.finetunes.service;
      const reread = await service.get(training.id);
      expect(reread).toMatchObject({ state: 'training', external: training.external });
      let current = reread;
      for (let i = 0; i < 10 && current.state === 'training'; i++) current = (await service.step(current))!;
      expect(current.state).toBe('evaluating');
      expect(current.weights).toMatchObject({ kind: 'fal-lora', endpoint: trainer.lora });
      expect(fake.trainings.size).toBe(1);
      const submits = fake.requests.filter((r) => r.method === 'POST' && r.path === `/${trainer.app}`);
      expect(submits).toHaveLength(1);
    }, 120_000);

    it('a completed training whose result keeps answering 5xx fails after three looks, not polled for ever', async () => {
      const { fake, service, start, until } = await setup(trainer.base);
      const training = await until(await start(), ['training']);
      const id = String(training.external!.requestId);
      // fal answers a request that failed on its side with the endpoint's 5xx, every time it is asked.
      fake.trainings.get(id)!.result = { status: 503, body: { detail: 'Worker exited unexpectedly' } };
      const done = await until(await service.get(training.id), ['failed', 'evaluating']);
      expect(done.state).toBe('failed');
      expect(done.error).toBe(
        'fal training failed: its result answered 503 3 times: Worker exited unexpectedly',
      );
      const resultReads = fake.requests.filter(
        (r) => r.method === 'GET' && r.path === `/${trainer.app}/requests/${id}`,
      );
      expect(resultReads).toHaveLength(3);
    }, 120_000);

    it('two copies of the submit step in one process make one submission (the row lease is per step)', async () => {
      const { fake, service, start } = await setup(trainer.base);
      const job = await start();
      const waits = await Promise.all([service.advance(job.id), service.advance(job.id)]);
      expect(fake.trainings.size).toBe(1);
      expect(fake.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/cancel'))).toHaveLength(0);
      expect((await service.get(job.id)).state).toBe('training');
      // The copy that found the lease taken is told to look again later, not to go on at once.
      expect(waits.some((ms) => ms !== undefined && ms >= 1000)).toBe(true);
    }, 120_000);

    it('cancelled on a server without FAL_KEY: the job ends cancelled, saying the training was not stopped', async () => {
      const { fake, env, start, until } = await setup(trainer.base);
      const training = await until(await start(), ['training']);
      await env.platform.close();
      const keyless = { PIXEL_DATA_DIR: env.dir };
      const again = await composePlatform(platformConfigFromEnv(keyless), { env: keyless });
      cleanups.push(() => again.close());
      const done = await again.finetunes.service.cancel(training.id);
      expect(done.state).toBe('cancelled');
      expect(done.error).toBe(
        'cancelled on a server without the fal backend: the training there was not stopped',
      );
      expect(fake.trainings.get(String(training.external!.requestId))!.cancelled).toBe(false);
    }, 120_000);

    it('a failed training ends failed with fal’s error detail', async () => {
      const { fake, start, until } = await setup(trainer.base);
      fake.failNext('The archive holds no images');
      const done = await until(await start(), ['failed', 'evaluating']);
      expect(done.state).toBe('failed');
      expect(done.error).toBe(`fal training failed: ${trainer.zipField}: The archive holds no images`);
    }, 120_000);

    it('cancel stops the training through its cancel_url', async () => {
      const { fake, service, start, until } = await setup(trainer.base);
      const training = await until(await start(), ['training']);
      await service.cancel(training.id);
      const done = await until(await service.get(training.id), ['cancelled']);
      expect(done.state).toBe('cancelled');
      const id = String(training.external!.requestId);
      expect(fake.trainings.get(id)!.cancelled).toBe(true);
      const cancel = fake.requests.find((r) => r.method === 'PUT' && r.path.endsWith('/cancel'))!;
      expect(cancel.path).toBe(`/${trainer.app}/requests/${id}/cancel`);
    }, 120_000);

    it('a key fal refuses fails the job at submit, naming the answer and not the key', async () => {
      const { start, until } = await setup(trainer.base, 'someone-else:secret');
      const done = await until(await start(), ['failed', 'training']);
      expect(done.state).toBe('failed');
      expect(done.error).toBe(
        'fal storage upload answered 401: Authentication is required to access this application.',
      );
      expect(done.error).not.toContain('fal-test-key');
    }, 120_000);
  },
);

describe('fal training backend: bases', () => {
  it('refuses a base it has no trainer for, naming it', async () => {
    const { service } = await setup('fal/fal-ai/flux/dev');
    await expect(
      service.start({
        team: LOCAL_TEAM,
        dataset: 'beef-cuts',
        backend: 'fal',
        base: 'fal/fal-ai/flux/schnell',
        trigger: 'TOK',
      }),
    ).rejects.toThrow('the fal backend cannot fine-tune fal/fal-ai/flux/schnell');
  }, 120_000);
});
