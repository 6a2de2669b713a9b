import { describe, expect, it } from 'vitest';
import { HTTP_STATUS, PixelError } from '../protocol/errors.ts';
import { parseApplicationObject, parseApplicationText } from './load.ts';

// Whatever the YAML parser or the schema refuses is the caller's bad input (a 4xx naming a field), never
// a plain exception that would surface as a 500.

function refusal(run: () => unknown): PixelError {
  try {
    run();
  } catch (error) {
    expect(PixelError.isInstance(error), `not a PixelError: ${String(error)}`).toBe(true);
    return error as PixelError;
  }
  throw new Error('the profile was accepted');
}

const laughs = (levels: number) => {
  const lines = ['name: produce', 'l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i < levels; i++)
    lines.push(
      `l${i}: &l${i} [${Array(10)
        .fill(`*l${i - 1}`)
        .join(', ')}]`,
    );
  return lines.join('\n');
};

describe('hostile application YAML', () => {
  const cases: Array<[string, string]> = [
    ['billion laughs', laughs(9)],
    ['a merge-key bomb', `${laughs(4)}\nm: &m {a: *l3}\nn: {<<: [*m, *m, *m, *m, *m, *m, *m, *m]}`],
    ['flow nesting past the stack', `name: produce\nx: ${'['.repeat(50_000)}${']'.repeat(50_000)}`],
    [
      'block nesting past the stack',
      `name: produce\n${Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} v`,
    ],
    ['binary and set tags', 'name: produce\nb: !!binary aGVsbG8=\ns: !!set {a, b}'],
    ['an unknown tag', 'name: produce\nf: !!js/function "function () {}"'],
    ['a NUL through an escape', 'name: "prod\\0uce"'],
    ['a lone surrogate through an escape', 'name: produce\ntitle: "\\ud800"'],
    ['a document stream', '---\nname: produce\n---\nname: other'],
    ['a scalar', '42'],
    ['tabs and garbage', '\t\u0001\u0002: [}'],
    ['an undefined alias', 'name: *nowhere'],
  ];
  for (const [name, text] of cases) {
    it(`${name} → a 4xx naming a field`, () => {
      const error = refusal(() => parseApplicationText(text, 'produce (update)'));
      expect(HTTP_STATUS[error.code]).toBeGreaterThanOrEqual(400);
      expect(HTTP_STATUS[error.code]).toBeLessThan(500);
      expect(error.field).toBeTruthy();
    });
  }

  it('a JSON profile with NUL in a nested field names it', () => {
    const error = refusal(() =>
      parseApplicationObject({ name: 'produce', rubric: [{ question: 'ok\u0000?' }] }),
    );
    expect(error.code).toBe('invalid_argument');
    expect(error.field).toBe('profile.rubric[0].question');
  });
});
