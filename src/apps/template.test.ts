import { describe, expect, it } from 'vitest';
import { PixelError } from '../protocol/errors.ts';
import { missingVariables, renderAll, renderTemplate, templateVariables, validateVars } from './template.ts';

function caught(fn: () => unknown): PixelError {
  try {
    fn();
  } catch (error) {
    if (PixelError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a PixelError');
}

describe('renderTemplate', () => {
  it('fills variables', () => {
    const { text, unused } = renderTemplate('A raw {{cut}} on {{surface}}.', {
      cut: 'ribeye steak',
      surface: 'butcher paper',
    });
    expect(text).toBe('A raw ribeye steak on butcher paper.');
    expect(unused).toEqual([]);
  });

  it('does not HTML-escape: prompts are not HTML', () => {
    const vars = { item: 'mac & cheese <large> "family" size' };
    expect(renderTemplate('Photo of {{item}}', vars).text).toBe(
      'Photo of mac & cheese <large> "family" size',
    );
    expect(renderTemplate('Photo of {{{item}}}', vars).text).toBe(
      'Photo of mac & cheese <large> "family" size',
    );
  });

  it('lists every missing variable in one error, sorted, on field vars', () => {
    const error = caught(() =>
      renderAll(
        [
          { field: 'template', template: '{{cut}} on {{surface}} with {{garnish}}' },
          { field: 'rubric[0].question', template: 'Is it a {{animal}}?' },
        ],
        { surface: 'paper' },
      ),
    );
    expect(error.code).toBe('invalid_argument');
    expect(error.field).toBe('vars');
    expect(error.message).toContain('animal, cut, garnish');
  });

  it('reports unused variables without failing', () => {
    const { text, unused } = renderTemplate('{{cut}}', { cut: 'ribeye', colour: 'red', animal: 'beef' });
    expect(text).toBe('ribeye');
    expect(unused).toEqual(['animal', 'colour']);
  });

  it('treats sections as optional clauses and tidies the punctuation they leave', () => {
    const template =
      'raw {{cut}}{{#animal}} ({{animal}}){{/animal}}{{#thickness}}, {{thickness}} thick{{/thickness}}, centred';
    expect(renderTemplate(template, { cut: 'ribeye', animal: 'beef', thickness: '1 inch' }).text).toBe(
      'raw ribeye (beef), 1 inch thick, centred',
    );
    expect(renderTemplate(template, { cut: 'ribeye', animal: '', thickness: '' }).text).toBe(
      'raw ribeye, centred',
    );
    // a variable only inside a section that does not render is not required
    expect(missingVariables('{{#a}}{{b}}{{/a}}{{^a}}none{{/a}}', {})).toEqual([]);
    expect(missingVariables('{{#a}}{{b}}{{/a}}', { a: 'x' })).toEqual(['b']);
  });

  it('refuses partials, dotted names and broken templates', () => {
    expect(caught(() => templateVariables('{{>header}} x')).message).toContain('partials are not supported');
    expect(caught(() => templateVariables('{{item.name}}')).message).toContain('plain identifier');
    expect(caught(() => templateVariables('{{#open}} never closed')).message).toContain('does not parse');
  });
});

describe('validateVars', () => {
  it('rejects control characters, naming the variable', () => {
    const error = caught(() => validateVars({ cut: 'ribeye', note: 'line one\nline two' }));
    expect(error.field).toBe('vars.note');
    expect(error.message).toContain('control character');
    expect(caught(() => validateVars({ cut: 'a\u0007b' })).field).toBe('vars.cut');
  });

  it('rejects bad names, non-text values and over-long values', () => {
    expect(caught(() => validateVars({ 'bad-name': 'x' })).field).toBe('vars.bad-name');
    expect(caught(() => validateVars({ n: 3 })).message).toContain('must be text');
    expect(caught(() => validateVars({ long: 'x'.repeat(2001) })).message).toContain('longer than 2000');
    expect(validateVars({ ok: 'mac & cheese' })).toEqual({ ok: 'mac & cheese' });
  });
});
