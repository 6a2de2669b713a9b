import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../models/catalog.ts';
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
