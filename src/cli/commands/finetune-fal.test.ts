import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetFolder } from '../../finetune/testing.ts';
import { startFalFake } from '../../providers/fal/fake.ts';
import { startFalTrainingsFake } from '../../providers/fal/fake-trainings.ts';
import { KEYLESS_ENV, runCli } from '../test-cli.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('pixel finetune start --backend fal', () => {
  it('trains on fal (flux-lora-fast-training), evaluates through fal-ai/flux-lora with the LoRA, and ends succeeded', async () => {
    const images = await startFalFake({ apiKey: 'fal-cli-key:secret' });
    cleanups.push(() => images.close());
    // One host for the trainer and the image apps, as queue.fal.run is.
    const fal = await startFalTrainingsFake({ apiKey: 'fal-cli-key:secret', otherApps: images.url });
    cleanups.push(() => fal.close());
    const data = mkdtempSync(join(tmpdir(), 'pixel-ft-fal-cli-'));
    const folder = await datasetFolder(4);
    cleanups.push(() => {
      rmSync(data, { recursive: true, force: true });
      rmSync(folder, { recursive: true, force: true });
    });
    const env = {
      ...KEYLESS_ENV,
      PIXEL_DATA_DIR: data,
      FAL_KEY: 'fal-cli-key:secret',
      FAL_QUEUE_BASE_URL: fal.url,
      FAL_REST_BASE_URL: fal.url,
      PIXEL_FINETUNE_POLL_MS: '20',
    };
    const created = await runCli(env, [
      'finetune',
      'datasets',
      'create',
      folder,
      '--name',
      'beef-cuts',
      '--category',
      'beef',
    ]);
    expect(created.code).toBe(0);

    const started = await runCli(
      env,
      [
        'finetune',
        'start',
        '--dataset',
        'beef-cuts',
        '--backend',
        'fal',
        '--base',
        'fal/fal-ai/flux/dev',
        '--trigger',
        'TOK',
        '--class',
        'ribeye steak',
        '--steps',
        '300',
        '--wait',
        '--json',
      ],
      240_000,
    );
    // Only progress lines on stderr (no warning, no key): the states it was seen in, in lifecycle order.
    const order = ['queued', 'training', 'evaluating', 'succeeded'];
    const seen = started.stderr
      .trim()
      .split('\n')
      .map((l) => order.indexOf(l.split(' ').at(-1)!));
    expect(seen.at(-1)).toBe(3);
    expect(seen.every((state, i) => state >= 0 && (i === 0 || state > seen[i - 1]!))).toBe(true);
    expect(started.stderr).not.toContain('fal-cli-key');
    const job = JSON.parse(started.stdout).finetune;
    expect(job).toMatchObject({ state: 'succeeded', backend: 'fal', baseModel: 'fal/fal-ai/flux/dev' });
    expect(job.evaluation.baseModel).toBe('fal/fal-ai/flux/dev');

    const [training] = [...fal.trainings.values()];
    expect(training).toMatchObject({
      app: 'fal-ai/flux-lora-fast-training',
      input: { trigger_word: 'TOK', steps: 300 },
    });
    // The evaluation ran the fine-tune on fal-ai/flux-lora with its LoRA, and the base on fal-ai/flux/dev.
    const lora = images.requests.filter((r) => r.method === 'POST' && r.path === '/fal-ai/flux-lora');
    expect(lora.length).toBeGreaterThan(0);
    for (const r of lora) {
      expect((r.body as { loras: unknown }).loras).toEqual([
        { path: expect.stringMatching(/pytorch_lora_weights\.safetensors$/), scale: 1 },
      ]);
      expect((r.body as { prompt: string }).prompt).toContain('TOK');
    }
    expect(images.requests.some((r) => r.method === 'POST' && r.path === '/fal-ai/flux/dev')).toBe(true);

    const status = await runCli(env, ['finetune', 'status', job.id]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`${job.id}`);
  }, 300_000);
});
