import { describe, expect, it } from 'vitest';
import { MAX_ITEMS, parseScene } from './parse.ts';

describe('parseScene', () => {
  it('finds objects, multi-word terms and plurals in prompt order', () => {
    const scene = parseScene('Two ribeye steaks beside a cereal box and some tomatoes');
    expect(scene.recognised).toEqual(['ribeye steak', 'cereal box', 'tomato']);
    expect(scene.items.map((i) => i.term)).toEqual(['ribeye steak', 'ribeye steak', 'cereal box', 'tomato']);
  });

  it('tints the next object with a colour word, and keeps "orange" a fruit when nothing follows', () => {
    const tinted = parseScene('a green apple');
    expect(tinted.items).toHaveLength(1);
    expect(tinted.items[0]!.tint).toBe('green');
    expect(tinted.items[0]!.word.fill).not.toBe(parseScene('an apple').items[0]!.word.fill);

    const fruit = parseScene('an orange and an apple');
    expect(fruit.items.map((i) => i.term)).toEqual(['orange', 'apple']);
    expect(fruit.items[0]!.tint).toBeUndefined();
  });

  it('draws "a <container> of <contents>" as the contents in the container shape', () => {
    const scene = parseScene('two bottles of wine and a bowl of grapes');
    expect(scene.items.map((i) => [i.term, i.container, i.word.shape])).toEqual([
      ['wine', 'bottle', 'bottle'],
      ['wine', 'bottle', 'bottle'],
      ['grapes', 'bowl', 'bowl'],
    ]);
    expect(scene.recognised).toEqual(['bottle', 'wine', 'bowl', 'grapes']);
  });

  it('draws a lone colour word as a swatch', () => {
    const scene = parseScene('something blue and mysterious');
    expect(scene.items.map((i) => i.term)).toEqual(['blue']);
  });

  it('reads background phrases, including "<colour> background"', () => {
    expect(parseScene('salmon on a wooden table').background?.term).toBe('wooden table');
    expect(parseScene('cheese on marble').background?.spec.texture).toBe('veins');
    const coloured = parseScene('lemons, yellow background');
    expect(coloured.background?.term).toBe('yellow background');
    expect(coloured.items.map((i) => i.term)).toEqual(['lemon']);
  });

  it('leaves out negated objects, colours and any term containing a negated word', () => {
    const scene = parseScene('ribeye steak, broccoli and a red apple', 'broccoli, steak, red');
    expect(scene.recognised).toEqual(['apple']);
    expect(scene.items[0]!.tint).toBeUndefined();
  });

  it('bounds the number of items however long the prompt', () => {
    const scene = parseScene('apple '.repeat(5000));
    expect(scene.items).toHaveLength(MAX_ITEMS);
  });

  it('returns nothing for a prompt with no known words', () => {
    expect(parseScene('an abstract idea').items).toEqual([]);
  });
});
