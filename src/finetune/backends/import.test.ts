import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { generate } from '../../generate/generate.ts';
import { tempPlatform, waitFor } from '../../jobs/testing.ts';
import { startA1111Fake } from '../../providers/a1111/fake.ts';
import { LOCAL_TEAM } from '../../server/auth.ts';
import { startTrainedLookProxy } from '../fake-trained.ts';
import { readDatasetFolder } from '../folder.ts';
import { datasetFolder, startTestQueue } from '../testing.ts';
import type { Finetune } from '../types.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function platformWithDataset(env: Record<string, string> = {}) {
  const t = await tempPlatform(env);
  cleanups.push(() => t.close());
  const dir = await datasetFolder(3);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  await t.platform.finetunes.datasets.createFromFiles({
    team: LOCAL_TEAM,
    name: 'veal-cuts',
    category: 'veal',
    source: 'test',
    files: await readDatasetFolder(dir),
  });
  return t;
}

const importLora = (
  t: Awaited<ReturnType<typeof platformWithDataset>>,
  base: string,
  lora: string | undefined,
) =>
  t.platform.finetunes.service.start({
    team: LOCAL_TEAM,
    dataset: 'veal-cuts',
    backend: 'import',
    base,
    trigger: 'TOK',
    classNoun: 'veal chop',
    ...(lora !== undefined && { lora }),
  });

describe('the import backend: a LoRA trained elsewhere, registered without training', () => {
  it('an AUTOMATIC1111 LoRA file is evaluated against the base on the queue, promoted, and served with <lora:…>', async () => {
    const a1111 = await startA1111Fake();
    cleanups.push(() => a1111.close());
    // What the LoRA draws, as the fake's stand-in: the dataset's purple product when its tag is in the prompt.
    const proxy = await startTrainedLookProxy({
      route: () => new URL(a1111.url).origin,
      rewrite: (_method, path, body) => {
        const prompt = String(body.prompt);
        if (path !== '/sdapi/v1/txt2img' || !prompt.includes('<lora:veal-chops-v2:1>')) return undefined;
        return { ...body, prompt: prompt.replace(/\s*<lora:[^>]+>/g, '').replace('TOK ', 'purple TOK ') };
      },
    });
    cleanups.push(() => proxy.close());
    const t = await platformWithDataset({ A1111_BASE_URL: proxy.url });
    const queue = await startTestQueue(t.platform);
    cleanups.push(() => queue.stop());
    const service = t.platform.finetunes.service;

    const started = await importLora(t, 'a1111/sdxl', 'veal-chops-v2.safetensors');
    expect(started).toMatchObject({
      backend: 'import',
      state: 'queued',
      params: { lora: 'veal-chops-v2.safetensors', steps: 0 },
    });
    const done = await waitFor(
      'the imported LoRA to be evaluated',
      async () => {
        const job: Finetune = await service.get(started.id);
        return ['succeeded', 'failed', 'cancelled'].includes(job.state) ? job : undefined;
      },
      { timeoutMs: 120_000, everyMs: 100 },
    );
    expect(done).toMatchObject({
      state: 'succeeded',
      progress: 1,
      promoted: true,
      weights: { kind: 'lora-file', loraName: 'veal-chops-v2' },
    });
    const prompts = done.evaluation!.prompts.length;
    expect(proxy.rewritten).toBe(prompts);
    expect(done.evaluation!.passed).toBe(true);

    const before = a1111.requests.length;
    const outcome = await generate(
      { model: 'ft/veal-cuts', prompt: 'a veal chop on a board', seed: 5 },
      { catalog: t.platform.catalog, adapter: t.platform.adapter },
    );
    expect(outcome.images).toHaveLength(1);
    // The call carried the LoRA tag after the trigger phrase (the stand-in for the LoRA took it out and drew purple).
    expect(proxy.rewritten).toBe(prompts + 1);
    const sent = a1111.requests.slice(before).find((r) => r.path === '/sdapi/v1/txt2img')!;
    expect(String((sent.body as { prompt: string }).prompt)).toBe('a purple TOK veal chop on a board');
    expect(outcome.translation.report.find((l) => l.param === 'prompt')).toMatchObject({
      sent: 'a TOK veal chop on a board <lora:veal-chops-v2:1>',
    });
  }, 180_000);

  it('a fal LoRA URL is served through the base’s LoRA endpoint', async () => {
    const t = await platformWithDataset();
    const service = t.platform.finetunes.service;
    let job = await importLora(
      t,
      'fal/fal-ai/flux-2',
      'https://v3.fal.media/files/abc/pytorch_lora_weights.safetensors',
    );
    for (let i = 0; i < 5 && job.state !== 'evaluating'; i++)
      job = (await service.step(job)) ?? (await service.get(job.id));
    expect(job.state).toBe('evaluating');
    expect(job.weights).toEqual({
      kind: 'fal-lora',
      endpoint: 'fal-ai/flux-2/lora',
      url: 'https://v3.fal.media/files/abc/pytorch_lora_weights.safetensors',
      scale: 1,
    });
    const entry = t.platform.catalog.get('ft/veal-cuts/v1');
    expect(entry?.providerModelId).toBe('fal-ai/flux-2/lora');
  }, 60_000);

  it('refuses a missing or malformed LoRA and a base it cannot serve, naming the field, storing no job', async () => {
    const t = await platformWithDataset();
    const refusal = async (base: string, lora: string | undefined) =>
      importLora(t, base, lora).then(
        () => undefined,
        (error: { code: string; field: string; message: string }) => error,
      );
    expect(await refusal('a1111/sdxl', undefined)).toMatchObject({ code: 'invalid_argument', field: 'lora' });
    expect(await refusal('a1111/sdxl', '../../etc/passwd')).toMatchObject({ field: 'lora' });
    expect(await refusal('comfyui/sdxl', '/abs/path.safetensors')).toMatchObject({ field: 'lora' });
    expect(await refusal('fal/fal-ai/flux/dev', 'my-lora')).toMatchObject({
      field: 'lora',
      message: expect.stringContaining('the URL of its safetensors file'),
    });
    expect(await refusal('pixel/sketch', 'x')).toMatchObject({ code: 'invalid_argument', field: 'base' });
    expect(await t.platform.finetunes.service.list(LOCAL_TEAM)).toEqual([]);
  }, 60_000);
});
