import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../models/catalog.ts';
import { parseGenerateRequest } from '../protocol/request.ts';
import { translateFor } from '../translate/translate.ts';
import { FinetuneRegistry, insertTrigger } from './registry.ts';
import type { FinetuneRepo } from './repo.ts';
import type { Finetune } from './types.ts';

describe('insertTrigger', () => {
  it('puts the token before the class noun, prefixes a prompt without it, and leaves a prompt with the token alone', () => {
    expect(insertTrigger('a photo of a ribeye steak', 'TOK', 'ribeye steak')).toBe(
      'a photo of a TOK ribeye steak',
    );
    expect(insertTrigger('Ribeye steak on slate', 'TOK', 'ribeye steak')).toBe('TOK Ribeye steak on slate');
    expect(insertTrigger('a steak on slate', 'TOK', 'ribeye steak')).toBe(
      'a photo of TOK ribeye steak, a steak on slate',
    );
    expect(insertTrigger('a TOK ribeye steak', 'TOK', 'ribeye steak')).toBe('a TOK ribeye steak');
    // Only whole words count: "TOKEN" is not the token, "steaks" still names the class.
    expect(insertTrigger('TOKEN ribeye steaks', 'TOK', 'ribeye steak')).toBe(
      'a photo of TOK ribeye steak, TOKEN ribeye steaks',
    );
  });
});

const job = (over: Partial<Finetune>): Finetune => ({
  id: 'ftj_1',
  team: 'local',
  name: 'beef-cuts',
  version: 1,
  datasetId: 'ftd_1',
  category: 'beef',
  baseModel: 'pixel/sketch',
  backend: 'sketch',
  trigger: 'TOK',
  classNoun: 'ribeye steak',
  params: { steps: 1000 },
  state: 'succeeded',
  progress: 1,
  external: {},
  weights: {
    kind: 'sketch-tune',
    tune: { palette: ['#7b3fa0'], background: '#dcdcdc', aspect: 1, strength: 1 },
    backgroundColour: 'light grey',
  },
  evaluation: null,
  promoted: false,
  cancelRequested: false,
  error: null,
  createdMs: 0,
  updatedMs: 0,
  ...over,
});

const repoOf = (jobs: Finetune[]) => ({ servable: async () => jobs }) as unknown as FinetuneRepo;

describe('FinetuneRegistry', () => {
  it('serves each trained version as ft/<name>/vN and only the promoted one as ft/<name>, on its base model route', async () => {
    const registry = new FinetuneRegistry(loadCatalog());
    await registry.refresh(repoOf([job({}), job({ id: 'ftj_2', version: 2, promoted: true })]));
    const catalog = registry.catalog();
    expect(catalog.resolve('ft/beef-cuts').routes[0]).toMatchObject({
      id: 'ft/beef-cuts',
      provider: 'pixel',
      providerModelId: 'sketch',
    });
    expect(registry.finetuneFor('ft/beef-cuts')?.version).toBe(2);
    expect(catalog.get('ft/beef-cuts/v1')?.displayName).toBe('beef-cuts v1 (fine-tune of pixel/sketch)');
    expect(
      catalog
        .list()
        .filter((m) => m.id.startsWith('ft/'))
        .map((m) => m.id)
        .sort(),
    ).toEqual(['ft/beef-cuts', 'ft/beef-cuts/v1', 'ft/beef-cuts/v2']);
    expect(catalog.resolve('pixel/sketch').routes[0]!.id).toBe('pixel/sketch');
    expect(catalog.adjustPrompt?.('ft/beef-cuts', 'a ribeye steak')?.prompt).toBe('a TOK ribeye steak');
    expect(catalog.adjustPrompt?.('pixel/sketch', 'a ribeye steak')).toBeUndefined();
  });

  it('says why an ft/ id is not servable', async () => {
    const registry = new FinetuneRegistry(loadCatalog());
    await registry.refresh(repoOf([job({})]));
    const catalog = registry.catalog();
    expect(() => catalog.resolve('ft/beef-cuts')).toThrow(
      'fine-tune ft/beef-cuts is not servable: no version of it is promoted',
    );
    expect(() => catalog.resolve('ft/beef-cuts/v9')).toThrow(/no such trained version/);
    expect(() => catalog.resolve('ft/lamb')).toThrow(
      'unknown fine-tune "ft/lamb" (pixel finetune list shows the trained ones)',
    );
  });
});

describe('FinetuneRegistry inference routes', () => {
  it('a fal LoRA runs on its LoRA endpoint with the weights in the entry, priced as that endpoint', async () => {
    const registry = new FinetuneRegistry(loadCatalog());
    const url = 'https://v3.fal.media/files/abc/pytorch_lora_weights.safetensors';
    await registry.refresh(
      repoOf([
        job({
          backend: 'fal',
          baseModel: 'fal/fal-ai/flux-2',
          weights: { kind: 'fal-lora', endpoint: 'fal-ai/flux-2/lora', url, scale: 1 },
        }),
      ]),
    );
    const entry = registry.catalog().get('ft/beef-cuts/v1')!;
    expect(entry).toMatchObject({
      provider: 'fal',
      providerModelId: 'fal-ai/flux-2/lora',
      lora: { name: url, strength: 1 },
      price: { kind: 'per_megapixel', usd: 0.021 },
    });
    const body = translateFor(
      parseGenerateRequest({ model: 'ft/beef-cuts/v1', prompt: 'x' }),
      entry,
      'ft/beef-cuts/v1',
    ).calls[0]!.body;
    expect(body.loras).toEqual([{ path: url, scale: 1 }]);
  });

  it('a LoRA file is a LoraLoader on ComfyUI and a <lora:…> tag on AUTOMATIC1111', async () => {
    const registry = new FinetuneRegistry(loadCatalog());
    const weights = { kind: 'lora-file' as const, loraName: 'beef-cuts-1a2b3c' };
    await registry.refresh(
      repoOf([
        job({ backend: 'self-hosted', baseModel: 'comfyui/sdxl', weights }),
        job({ id: 'ftj_2', name: 'pork', backend: 'self-hosted', baseModel: 'a1111/sdxl', weights }),
      ]),
    );
    const catalog = registry.catalog();
    expect(catalog.get('ft/beef-cuts/v1')?.lora).toEqual({ name: 'beef-cuts-1a2b3c', strength: 1 });
    expect(catalog.adjustPrompt?.('ft/beef-cuts/v1', 'a ribeye steak')?.prompt).toBe('a TOK ribeye steak');
    expect(catalog.get('ft/pork/v1')?.lora).toBeUndefined();
    expect(catalog.adjustPrompt?.('ft/pork/v1', 'a ribeye steak')?.prompt).toBe(
      'a TOK ribeye steak <lora:beef-cuts-1a2b3c:1>',
    );
  });
});
