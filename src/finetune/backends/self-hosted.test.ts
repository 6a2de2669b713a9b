import { rmSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { tempPlatform } from '../../jobs/testing.ts';
import { LOCAL_TEAM } from '../../server/auth.ts';
import { readDatasetFolder } from '../folder.ts';
import { datasetFolder } from '../testing.ts';
import type { Finetune } from '../types.ts';
import { startSelfHostedFake } from './fake-self-hosted.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(boxToken = 'box-secret') {
  const box = await startSelfHostedFake({ token: boxToken });
  cleanups.push(() => box.close());
  const env = await tempPlatform({
    PIXEL_SELFHOSTED_TRAINER_URL: box.url,
    PIXEL_SELFHOSTED_TRAINER_TOKEN: 'box-secret',
  });
  cleanups.push(() => env.close());
  const dir = await datasetFolder(3);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const { datasets, service } = env.platform.finetunes;
  await datasets.createFromFiles({
    team: LOCAL_TEAM,
    name: 'pork-cuts',
    category: 'pork',
    source: 'test',
    files: await readDatasetFolder(dir),
  });
  const start = () =>
    service.start({
      team: LOCAL_TEAM,
      dataset: 'pork-cuts',
      backend: 'self-hosted',
      base: 'a1111/sdxl',
      trigger: 'TOK',
      classNoun: 'pork chop',
      steps: 500,
    });
  const until = async (job: Finetune, states: string[]) => {
    let current = job;
    for (let i = 0; i < 20 && !states.includes(current.state); i++) {
      current = (await service.step(current)) ?? (await service.get(job.id));
    }
    return current;
  };
  return { box, env, service, start, until };
}

describe('self-hosted training contract (against a fake GPU box)', () => {
  it('submits config and zip, follows progress, and serves the LoRA on a1111 with <lora:…> and the trigger', async () => {
    const { box, env, start, until } = await setup();
    const training = await until(await start(), ['training']);
    const sent = box.trainings.get(String(training.external!.trainingId))!;
    expect(sent.config).toMatchObject({
      name: 'pork-cuts',
      trigger: 'TOK',
      class_noun: 'pork chop',
      base_model: 'a1111/sdxl',
      steps: 500,
    });
    expect(Object.keys(unzipSync(sent.dataset)).sort()).toEqual(['01.png', '01.txt', '02.png', '03.png']);
    const progress: number[] = [];
    let current = training;
    for (let i = 0; i < 10 && current.state === 'training'; i++) {
      current = (await env.platform.finetunes.service.step(current))!;
      progress.push(current.progress);
    }
    expect(progress).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(current.state).toBe('evaluating');
    expect(current.weights).toMatchObject({
      kind: 'lora-file',
      loraName: expect.stringMatching(/^pork-cuts-/),
    });
    const loraName = (current.weights as { loraName: string }).loraName;
    expect(env.platform.catalog.get('ft/pork-cuts/v1')).toMatchObject({ provider: 'a1111' });
    expect(env.platform.catalog.adjustPrompt?.('ft/pork-cuts/v1', 'a pork chop on a board')).toMatchObject({
      prompt: `a TOK pork chop on a board <lora:${loraName}:1>`,
      line: {
        note: `fine-tune ft/pork-cuts/v1: trigger phrase "TOK pork chop" inserted, LoRA <lora:${loraName}:1> added`,
      },
    });
  }, 120_000);

  it('a failed training ends failed with the box’s error; cancel stops it at the box', async () => {
    const { box, service, start, until } = await setup();
    box.failNext('CUDA out of memory');
    const failed = await until(await start(), ['failed', 'evaluating']);
    expect(failed).toMatchObject({
      state: 'failed',
      error: 'the self-hosted training failed: CUDA out of memory',
    });

    const running = await until(await start(), ['training']);
    await service.cancel(running.id);
    const cancelled = await until(await service.get(running.id), ['cancelled']);
    expect(cancelled.state).toBe('cancelled');
    expect(box.trainings.get(String(running.external!.trainingId))!.status).toBe('cancelled');
  }, 120_000);

  it('a box that refuses the token fails the job saying so', async () => {
    const { start, until } = await setup('another-secret');
    const done = await until(await start(), ['failed', 'training']);
    expect(done).toMatchObject({
      state: 'failed',
      error: 'the self-hosted trainer answered 401 to POST /trainings: missing or wrong bearer token',
    });
  }, 120_000);
});
