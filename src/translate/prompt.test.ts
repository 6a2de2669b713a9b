import { describe, expect, it } from 'vitest';
import { assemblePrompt, avoidItems } from './prompt.ts';

describe('assemblePrompt', () => {
  it.each([
    [
      'subject, style, then avoid, each one sentence',
      {
        subject: 'a ribeye steak on a slate board',
        style: 'professional photograph, natural light',
        avoid: 'blur',
      },
      'a ribeye steak on a slate board. Professional photograph, natural light. Avoid: blur.',
    ],
    [
      'no doubled or dangling punctuation from the parts',
      {
        subject: 'a ribeye steak on a slate board.',
        style: ' studio photograph, ',
        avoid: 'blur., knife,, fork;',
      },
      'a ribeye steak on a slate board. Studio photograph. Avoid: blur, knife, fork.',
    ],
    [
      'a question or exclamation keeps its mark',
      { subject: 'Fresh lemons!', avoid: 'text' },
      'Fresh lemons! Avoid: text.',
    ],
    [
      'only a style',
      { subject: 'two lemons', style: 'flat vector illustration' },
      'two lemons. Flat vector illustration.',
    ],
    [
      'repeated avoid items once, case-insensitively',
      { subject: 'x', avoid: 'Blur, blur, BLUR' },
      'x. Avoid: Blur.',
    ],
    [
      'an "Avoid:" the caller already wrote is not doubled',
      { subject: 'x', avoid: 'Avoid: text' },
      'x. Avoid: text.',
    ],
  ])('%s', (_name, parts, expected) => {
    expect(assemblePrompt(parts)).toBe(expected);
  });

  it('returns the subject untouched when there is nothing to add', () => {
    expect(assemblePrompt({ subject: '  raw (ribeye:1.2), top-down ' })).toBe(
      '  raw (ribeye:1.2), top-down ',
    );
    expect(assemblePrompt({ subject: 'x', style: ' , ', avoid: ' ,; ' })).toBe('x');
  });

  it('never puts the style after the avoid sentence (the old "Avoid: blur., professional photograph" bug)', () => {
    const text = assemblePrompt({ subject: 's', style: 'professional photograph', avoid: 'blur.' });
    expect(text.indexOf('Professional photograph')).toBeLessThan(text.indexOf('Avoid:'));
    expect(text).not.toContain('blur.,');
  });
});

describe('avoidItems', () => {
  it('splits on commas, semicolons and new lines', () => {
    expect(avoidItems('knife; fork\nhands,  plastic wrap ')).toEqual([
      'knife',
      'fork',
      'hands',
      'plastic wrap',
    ]);
  });
});
