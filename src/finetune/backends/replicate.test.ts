import { rmSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { tempPlatform } from '../../jobs/testing.ts';
import {
  FAKE_TRAINER_VERSION,
  startReplicateTrainingsFake,
} from '../../providers/replicate/fake-trainings.ts';
import { LOCAL_TEAM } from '../../server/auth.ts';
import { translate } from '../../translate/translate.ts';
import { readDatasetFolder } from '../folder.ts';
import { datasetFolder } from '../testing.ts';
import type { Finetune } from '../types.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(fakeKey = 'r8_test_token') {
  const fake = await startReplicateTrainingsFake({ apiKey: fakeKey });
  cleanups.push(() => fake.close());
  const env = await tempPlatform({
    REPLICATE_API_TOKEN: 'r8_test_token',
    REPLICATE_BASE_URL: `${fake.url}/v1`,
    PIXEL_REPLICATE_TRAINING_OWNER: 'acme',
  });
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
      backend: 'replicate',
      base: 'replicate/black-forest-labs/flux-dev',
      trigger: 'TOK',
      classNoun: 'ribeye steak',
      steps: 800,
    });
  /** Steps the job until it reaches one of `states` (bounded). */
  const until = async (job: Finetune, states: string[]) => {
    let current = job;
    for (let i = 0; i < 20 && !states.includes(current.state); i++) {
      current = (await service.step(current)) ?? (await service.get(job.id));
    }
    return current;
  };
  return { fake, env, service, start, until };
}

describe('Replicate trainings backend (against a fake of the trainings API)', () => {
  it('creates the destination, uploads the zip, trains with progress, and registers the trained version', async () => {
    const { fake, env, service, start, until } = await setup();
    const job = await start();
    const training = await until(job, ['training']);
    expect(training.external).toMatchObject({
      destination: 'acme/beef-cuts',
      trainerVersion: FAKE_TRAINER_VERSION,
    });
    expect(fake.models.has('acme/beef-cuts')).toBe(true);
    const sent = fake.trainings.get(String(training.external!.trainingId))!;
    expect(sent.input).toMatchObject({ trigger_word: 'TOK', steps: 800, autocaption: false });
    const zip = unzipSync(fake.files.get(String(sent.input.input_images).split('/').at(-1)!)!);
    expect(Object.keys(zip).sort()).toEqual(['01.png', '01.txt', '02.png', '03.png', '04.png']);

    const seen: number[] = [];
    let current = training;
    for (let i = 0; i < 10 && current.state === 'training'; i++) {
      current = (await service.step(current))!;
      seen.push(current.progress);
    }
    expect(current.state).toBe('evaluating');
    // Progress from the training's logs (0%, 33%, 67%: kept under 1 until it is done), then done.
    expect(seen).toEqual([0, 0.33 * 0.99, 0.67 * 0.99, 1]);
    expect(current.weights).toMatchObject({
      kind: 'replicate-version',
      version: expect.stringMatching(/^acme\/beef-cuts:[0-9a-f]{64}$/),
    });

    // The trained version is served as ft/beef-cuts/v1 through Replicate's version predictions, trigger inserted.
    const preview = translate(
      { model: 'ft/beef-cuts/v1', prompt: 'a ribeye steak on slate', seed: 1 },
      { catalog: env.platform.catalog },
    );
    const hash = (current.weights as { version: string }).version.split(':')[1];
    expect(preview.model.provider).toBe('replicate');
    expect(preview.calls[0]!.body).toMatchObject({ version: hash });
    expect(env.platform.catalog.adjustPrompt?.('ft/beef-cuts/v1', 'a ribeye steak on slate')?.prompt).toBe(
      'a TOK ribeye steak on slate',
    );
  }, 120_000);

  it('a failed training ends failed with Replicate’s error', async () => {
    const { fake, start, until } = await setup();
    fake.failNext('CUDA out of memory');
    const done = await until(await start(), ['failed', 'evaluating']);
    expect(done.state).toBe('failed');
    expect(done.error).toBe('Replicate training failed: CUDA out of memory');
  }, 120_000);

  it('cancel stops the training at Replicate', async () => {
    const { fake, service, start, until } = await setup();
    const training = await until(await start(), ['training']);
    await service.cancel(training.id);
    const done = await until(await service.get(training.id), ['cancelled']);
    expect(done.state).toBe('cancelled');
    expect(fake.trainings.get(String(training.external!.trainingId))!.status).toBe('canceled');
  }, 120_000);

  it('a token Replicate refuses fails the job at submit, naming the answer', async () => {
    const { start, until } = await setup('r8_someone_else');
    const done = await until(await start(), ['failed', 'training']);
    expect(done.state).toBe('failed');
    expect(done.error).toBe(
      'Replicate model read answered 401: You did not pass a valid authentication token',
    );
  }, 120_000);
});
