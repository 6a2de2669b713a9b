import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../models/catalog.ts';
import { partialPlan } from './partial-plan.ts';

const catalog = defaultCatalog();

describe('partialPlan, over the whole catalogue', () => {
  // Retired entries are refused before anything streams (resolve throws), whatever is asked.
  const live = catalog.list().filter((m) => m.status.state !== 'retired');
  const entries = live.map((m) => [m.id, m.partialImages ?? 0] as const);

  it('knows which models stream partial images: pixel/sketch and the GPT image models', () => {
    const streaming = entries.filter(([, max]) => max > 0).map(([id]) => id);
    expect(streaming).toEqual(
      expect.arrayContaining([
        'pixel/sketch',
        'openai/gpt-image-1.5',
        'openai/gpt-image-2',
        'openai/gpt-image-1-mini',
      ]),
    );
    expect(streaming.filter((id) => !id.startsWith('openai/gpt-image') && id !== 'pixel/sketch')).toEqual([]);
  });

  it.each(entries)('%s: partial_images 2 is honoured exactly where the route sends partials', (id) => {
    const route = catalog.resolve(id).routes[0]!;
    const max = route.partialImages ?? 0;
    const plan = partialPlan(2, id, catalog)!;
    if (max === 0) {
      expect(plan).toMatchObject({
        count: 0,
        line: { param: 'partial_images', status: 'dropped', requested: 2 },
      });
      expect(plan.line.note).toContain(`${route.id} sends no partial images here`);
    } else {
      expect(plan).toMatchObject({ count: 2, line: { status: 'native', requested: 2, sent: 2 } });
    }
  });

  it('reads an alias by its first route; 0 asks for nothing and reports nothing', () => {
    expect(partialPlan(1, 'gpt-image', catalog)).toMatchObject({
      count: 1,
      line: { status: 'native', sent: 1 },
    });
    expect(partialPlan(3, 'openai/gpt-image-1.5', catalog)).toMatchObject({ count: 3 });
    expect(partialPlan(0, 'openai/gpt-image-1.5', catalog)).toBeUndefined();
    expect(() => partialPlan(2, 'openai/dall-e-3', catalog)).toThrow(/retired/);
  });
});
