import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { generate } from '../../generate/generate.ts';
import { tempPlatform } from '../../jobs/testing.ts';
import { createComfyUIAdapter } from '../../providers/comfyui/adapter.ts';
import { startComfyUIFake } from '../../providers/comfyui/fake.ts';
import { LOCAL_TEAM } from '../../server/auth.ts';
import { readDatasetFolder } from '../folder.ts';
import { datasetFolder } from '../testing.ts';
import type { Finetune } from '../types.ts';
import { startSelfHostedFake } from './fake-self-hosted.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Graph = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

describe('self-hosted fine-tune served on ComfyUI (LoraLoader route)', () => {
  it('trains on the box, then generates through ComfyUI with a LoraLoader between the checkpoint and its MODEL/CLIP consumers', async () => {
    const box = await startSelfHostedFake({ token: 'box-secret' });
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
      name: 'lamb-cuts',
      category: 'lamb',
      source: 'test',
      files: await readDatasetFolder(dir),
    });
    let job: Finetune = await service.start({
      team: LOCAL_TEAM,
      dataset: 'lamb-cuts',
      backend: 'self-hosted',
      base: 'comfyui/sdxl',
      trigger: 'TOK',
      classNoun: 'lamb rack',
      steps: 500,
    });
    for (let i = 0; i < 20 && job.state !== 'evaluating' && job.state !== 'failed'; i++) {
      job = (await service.step(job)) ?? (await service.get(job.id));
    }
    expect(job.state).toBe('evaluating');
    const loraName = (job.weights as { loraName: string }).loraName;

    // The ComfyUI host knows the checkpoint and the trained LoRA (an unknown lora_name would be refused).
    const comfy = await startComfyUIFake({ checkpoints: ['sd_xl_base_1.0.safetensors'], loras: [loraName] });
    cleanups.push(() => comfy.close());
    const adapter = createComfyUIAdapter({ baseURL: comfy.url, progress: 'poll', pollIntervalMs: 5 });
    const outcome = await generate(
      { model: 'ft/lamb-cuts/v1', prompt: 'a lamb rack on a board', seed: 3 },
      { catalog: env.platform.catalog, adapter: (p) => (p === 'comfyui' ? adapter : undefined) },
    );
    expect(outcome.images).toHaveLength(1);

    const submitted = comfy.requests.find((r) => r.method === 'POST' && r.path === '/prompt')!;
    const graph = (submitted.body as { prompt: Graph }).prompt;
    const [loraId, lora] = Object.entries(graph).find(([, n]) => n.class_type === 'LoraLoader')!;
    const ckpt = Object.entries(graph).find(([, n]) => n.class_type === 'CheckpointLoaderSimple')![0];
    expect(lora.inputs).toEqual({
      model: [ckpt, 0],
      clip: [ckpt, 1],
      lora_name: loraName,
      strength_model: 1,
      strength_clip: 1,
    });
    // The sampler takes the model, and both text encoders the CLIP, from the LoraLoader; the VAE stays on the checkpoint.
    const sampler = Object.values(graph).find((n) => n.class_type === 'KSampler')!;
    expect(sampler.inputs.model).toEqual([loraId, 0]);
    const encoders = Object.values(graph).filter((n) => n.class_type === 'CLIPTextEncode');
    expect(encoders.map((n) => n.inputs.clip)).toEqual([
      [loraId, 1],
      [loraId, 1],
    ]);
    expect(Object.values(graph).find((n) => n.class_type === 'VAEDecode')!.inputs.vae).toEqual([ckpt, 2]);
    // The trigger phrase is in the positive prompt, and no A1111 `<lora:…>` tag is.
    expect(encoders.map((n) => n.inputs.text)).toContain('a TOK lamb rack on a board');
    const line = outcome.translation.report.find((l) => l.param === 'prompt')!;
    expect(line.note).toBe(
      `fine-tune ft/lamb-cuts/v1: trigger phrase "TOK lamb rack" inserted; LoraLoader ${loraName} (strength 1) inserted after the checkpoint loader`,
    );
  }, 120_000);
});
