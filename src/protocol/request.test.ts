import { describe, expect, it } from 'vitest';
import { PixelError } from './errors.ts';
import { DEFAULT_MAX_PIXELS_PER_REQUEST, parseGenerateRequest, requestLimitsFromEnv } from './request.ts';

function refusal(input: unknown, limits?: { maxPixels: number }): PixelError {
  try {
    parseGenerateRequest(input, limits);
  } catch (error) {
    if (PixelError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('the request was accepted');
}

describe('per-request pixel budget', () => {
  it('refuses n × width × height over 64 MP with resource_exhausted naming the fields', () => {
    const error = refusal({ prompt: 'steak', width: 8192, height: 8192, n: 16 });
    expect(error.code).toBe('resource_exhausted');
    expect(error.retryable).toBe(false);
    expect(error.field).toBe('n');
    expect(error.message).toContain('16 × 8192 × 8192');
    expect(error.message).toContain(String(DEFAULT_MAX_PIXELS_PER_REQUEST));
  });

  it('accepts one 8192² image and counts a missing side from the aspect ratio', () => {
    expect(parseGenerateRequest({ prompt: 'steak', width: 8192, height: 8192 }).n).toBe(1);
    const error = refusal(
      { prompt: 'steak', width: 4096, aspectRatio: '1:2', n: 3 },
      { maxPixels: 40_000_000 },
    );
    expect(error.message).toContain('3 × 4096 × 8192');
    expect(error.field).toBe('n');
    expect(refusal({ prompt: 'steak', height: 8000 }, { maxPixels: 1_000_000 }).field).toBe('height');
  });

  it('reads PIXEL_MAX_PIXELS_PER_REQUEST and names it when it is bad', () => {
    expect(requestLimitsFromEnv({ PIXEL_MAX_PIXELS_PER_REQUEST: '1000000' }).maxPixels).toBe(1_000_000);
    expect(requestLimitsFromEnv({}).maxPixels).toBe(DEFAULT_MAX_PIXELS_PER_REQUEST);
    expect(() => requestLimitsFromEnv({ PIXEL_MAX_PIXELS_PER_REQUEST: 'lots' })).toThrow(
      /PIXEL_MAX_PIXELS_PER_REQUEST must be an integer/,
    );
  });
});

describe('text that cannot be stored or sent', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['NUL in the prompt', { prompt: 'a\u0000b' }, 'prompt'],
    [
      'lone high surrogate in the negative prompt',
      { prompt: 'a', negativePrompt: 'x\ud800' },
      'negativePrompt',
    ],
    ['lone low surrogate in the model', { prompt: 'a', model: '\udc00' }, 'model'],
    ['NUL in a var', { app: 'produce', vars: { item: 'ap\u0000ple' } }, 'vars.item'],
    ['NUL in a var name', { app: 'produce', vars: { 'it\u0000em': 'apple' } }, 'vars."it\\u0000em"'],
    [
      'surrogate deep in providerOptions',
      { prompt: 'a', providerOptions: { openai: { user: ['ok', 'x\udfff'] } } },
      'providerOptions.openai.user[1]',
    ],
    ['NUL in an unknown field', { prompt: 'a', extra: '\u0000' }, 'extra'],
  ];
  for (const [name, input, field] of cases) {
    it(`refuses ${name} as invalid_argument naming ${field}`, () => {
      const error = refusal(input);
      expect(error.code).toBe('invalid_argument');
      expect(error.field).toBe(field);
      expect(error.message).toMatch(/NUL character|lone UTF-16 surrogate/);
    });
  }

  it('accepts paired surrogates (emoji) and other control characters the schema allows', () => {
    expect(parseGenerateRequest({ prompt: 'a steak 🥩 on\tslate' }).prompt).toBe('a steak 🥩 on\tslate');
  });
});

describe('nesting bounds', () => {
  const deep = (levels: number): unknown => {
    let value: unknown = 'leaf';
    for (let i = 0; i < levels; i++) value = { k: value };
    return value;
  };

  it('refuses providerOptions nested deeper than allowed, naming the field', () => {
    const error = refusal({ prompt: 'a', providerOptions: { openai: { x: deep(10) } } });
    expect(error.code).toBe('invalid_argument');
    expect(error.field).toMatch(/^providerOptions\.openai\.x\.k/);
    expect(error.message).toContain('providerOptions may nest at most');
  });

  it('survives nesting far beyond the stack (100k levels) with a 400, not a crash', () => {
    let value: unknown = 1;
    for (let i = 0; i < 100_000; i++) value = [value];
    const error = refusal({ prompt: 'a', providerOptions: { openai: { x: value } } });
    expect(error.code).toBe('invalid_argument');
    const other = refusal({ prompt: value });
    expect(other.code).toBe('invalid_argument');
    expect(other.field).toMatch(/^prompt/);
  });

  it('refuses too many values in providerOptions and vars', () => {
    const wide = Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`k${i}`, i]));
    expect(refusal({ prompt: 'a', providerOptions: { openai: wide } }).field).toBe('providerOptions');
    const vars = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`v${i}`, 'x']));
    const error = refusal({ app: 'produce', vars });
    expect(error.field).toBe('vars');
    expect(error.message).toContain('at most 200');
  });

  it('keeps accepting ordinary provider options', () => {
    const request = parseGenerateRequest({
      prompt: 'a',
      providerOptions: { openai: { moderation: 'low' }, fal: { loras: [{ path: 'x', scale: 1 }] } },
    });
    expect(request.providerOptions?.fal?.loras).toEqual([{ path: 'x', scale: 1 }]);
  });
});
