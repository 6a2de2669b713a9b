import { describe, expect, it } from 'vitest';
import { distance, suggest } from './suggest.ts';

describe('suggest', () => {
  it('measures edit distance', () => {
    expect(distance('kitten', 'sitting')).toBe(3);
    expect(distance('', 'abc')).toBe(3);
    expect(distance('same', 'same')).toBe(0);
  });

  it('matches the id after the provider prefix and ranks closer names first', () => {
    const names = ['openai/gpt-image-1.5', 'openai/gpt-image-1', 'flux-dev', 'bfl/flux-dev', 'pixel/sketch'];
    expect(suggest('gpt-image-1.5', names)[0]).toBe('openai/gpt-image-1.5');
    expect(suggest('flux-devv', names).slice(0, 2)).toEqual(['flux-dev', 'bfl/flux-dev']);
    expect(suggest('skech', names)).toEqual(['pixel/sketch']);
    expect(suggest('completely-different', names)).toEqual([]);
    expect(suggest('flux', names, 1)).toHaveLength(1);
  });
});
