import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../models/catalog.ts';
import type { ModelEntry } from '../models/schema.ts';
import { PixelError } from '../protocol/errors.ts';
import { N_MAX, SEED_MAX } from '../protocol/request.ts';
import { mapCfg } from './cfg.ts';
import { translate } from './translate.ts';
import type { ReportLine, Translation } from './types.ts';

const catalog = defaultCatalog();
const all = catalog.list();
const usable = all.filter((m) => m.status.state !== 'retired');
const retired = all.filter((m) => m.status.state === 'retired');
const fixedSeed = () => 1234;

function run(model: ModelEntry, extra: Record<string, unknown> = {}): Translation {
  return translate(
    { model: model.id, prompt: 'a ribeye steak on a wooden board', ...extra },
    { catalog, randomSeed: fixedSeed },
  );
}

function line(t: Translation, param: string): ReportLine | undefined {
  return t.report.find((l) => l.param === param);
}

function body(t: Translation, call = 0): string {
  return JSON.stringify(t.calls[call]!.body);
}

function withinSpec(model: ModelEntry, width: number, height: number): boolean {
  const spec = model.sizes;
  if (spec.kind === 'list') return spec.sizes.some((s) => s.width === width && s.height === height);
  if (spec.kind === 'ratios') {
    const scales = spec.resolutions ? Object.values(spec.resolutions) : [1];
    return spec.ratios.some((r) =>
      scales.some((k) => Math.round(r.width * k) === width && Math.round(r.height * k) === height),
    );
  }
  return (
    width % spec.multipleOf === 0 &&
    height % spec.multipleOf === 0 &&
    Math.min(width, height) >= spec.minSide &&
    Math.max(width, height) <= spec.maxSide &&
    (spec.maxPixels === undefined || width * height <= spec.maxPixels)
  );
}

it('the catalogue has models to test, and some retired ones', () => {
  expect(usable.length).toBeGreaterThan(20);
  expect(retired.length).toBeGreaterThanOrEqual(3);
});

describe.each(usable.map((m) => [m.id, m] as const))('%s', (_id, model) => {
  it('translates a bare prompt at the model default size', () => {
    const t = run(model);
    expect(t.model.id).toBe(model.id);
    expect(t.calls).toHaveLength(1);
    expect(body(t)).toContain('ribeye steak');
    expect(withinSpec(model, t.native.size.width, t.native.size.height)).toBe(true);
    expect(line(t, 'size')?.status).toBe('native');
  });

  it.each([
    [1000, 1000],
    [1920, 1080],
    [600, 900],
    [333, 777],
  ])('delivers exactly %dx%d from a native size the model accepts', (width, height) => {
    const t = run(model, { width, height });
    expect(withinSpec(model, t.native.size.width, t.native.size.height)).toBe(true);
    expect(t.delivery).toMatchObject({ fit: 'exact', width, height });
    const status = line(t, 'size')!.status;
    const native = t.native.size.width === width && t.native.size.height === height;
    expect(status).toBe(native ? 'native' : 'emulated');
  });

  it('with fit native reports the nearest size as adjusted and plans no crop', () => {
    const t = run(model, { width: 1000, height: 700, fit: 'native' });
    expect(t.delivery.fit).toBe('native');
    expect(t.delivery.width).toBeUndefined();
    const native = t.native.size.width === 1000 && t.native.size.height === 700;
    expect(line(t, 'size')!.status).toBe(native ? 'native' : 'adjusted');
  });

  it.each(['1:1', '16:9', '9:16', '3:2', '2:3'])(
    'maps aspect ratio %s to the nearest native shape',
    (aspectRatio) => {
      const t = run(model, { aspectRatio });
      const [w, h] = aspectRatio.split(':').map(Number) as [number, number];
      const asked = Math.log(w / h);
      const got = Math.log(t.native.size.width / t.native.size.height);
      expect(withinSpec(model, t.native.size.width, t.native.size.height)).toBe(true);
      // Nothing the model offers is closer than what was chosen (ratios and lists); free sizes land within rounding.
      if (model.sizes.kind === 'free') {
        const limit = Math.log(model.sizes.maxAspect ?? 100);
        const floor = Math.log(model.sizes.minAspect ?? 0.01);
        const clamped = Math.min(limit, Math.max(floor, asked));
        expect(Math.abs(got - clamped)).toBeLessThan(0.08);
      } else {
        const options = model.sizes.kind === 'list' ? model.sizes.sizes : model.sizes.ratios;
        const best = Math.min(...options.map((o) => Math.abs(Math.log(o.width / o.height) - asked)));
        expect(Math.abs(got - asked)).toBeCloseTo(best, 5);
      }
    },
  );

  it.each([1, 4, 7, 13, 20])(
    'maps cfgScale %d onto the guidance family, clamps to the host, or reports it dropped',
    (cfgScale) => {
      const t = run(model, { cfgScale });
      const l = line(t, 'cfgScale')!;
      if (!model.cfg) {
        expect(l.status).toBe('dropped');
        return;
      }
      const useful = model.cfg.useful!;
      const mapped = mapCfg(cfgScale, useful);
      const sent = Math.min(model.cfg.max, Math.max(model.cfg.min, mapped));
      expect(l.sent).toBe(sent);
      expect(l.status).toBe(sent === mapped ? 'native' : 'adjusted');
      if (sent !== mapped) expect(l.note).toMatch(/clamped/);
      if (cfgScale === 1) expect(mapped).toBe(useful.min);
      if (cfgScale === 7) expect(mapped).toBe(useful.default);
      if (cfgScale === 20) expect(mapped).toBe(useful.max);
      expect(body(t)).toContain(`"${model.cfg.param}":${sent}`);
    },
  );

  it.each([0, 1, 2_147_483_646, SEED_MAX])(
    'seed %d is sent natively when it fits, else adjusted or dropped',
    (seed) => {
      const t = run(model, { seed });
      const l = line(t, 'seed')!;
      if (!model.seed) {
        expect(l.status).toBe('dropped');
        return;
      }
      const fits =
        seed >= model.seed.min && seed <= model.seed.max && !(seed === 0 && model.seed.zeroMeansRandom);
      expect(l.status).toBe(fits ? 'native' : 'adjusted');
      const sent = l.sent as number;
      expect(sent).toBeGreaterThanOrEqual(model.seed.min);
      expect(sent).toBeLessThanOrEqual(model.seed.max);
      if (model.seed.zeroMeansRandom) expect(sent).not.toBe(0);
      expect(t.calls[0]!.seed).toBe(sent);
      expect(t.request.seed).toBe(seed);
    },
  );

  it('chooses and records a seed when none is given (if the model takes seeds)', () => {
    const t = run(model);
    if (!model.seed) {
      expect(line(t, 'seed')).toBeUndefined();
      expect(t.request.seed).toBeUndefined();
      return;
    }
    expect(t.request.seed).toBe(1234);
    expect(line(t, 'seed')!.note).toMatch(/chose/);
  });

  it(`splits n=${N_MAX} by ${model.imagesPerCall} images per call with consecutive seeds`, () => {
    const t = run(model, { n: N_MAX, seed: 10 });
    expect(t.calls.length).toBe(Math.ceil(N_MAX / model.imagesPerCall));
    expect(t.calls.reduce((sum, c) => sum + c.count, 0)).toBe(N_MAX);
    expect(t.calls.every((c) => c.count <= model.imagesPerCall)).toBe(true);
    if (model.seed && t.calls.length > 1)
      expect(t.calls[1]!.seed).toBe(t.calls[0]!.seed! + model.imagesPerCall);
  });

  it('sends a style natively or as a prompt fragment, and says which', () => {
    const t = run(model, { style: 'studio-product' });
    const l = line(t, 'style')!;
    if (model.styles?.map['studio-product'] !== undefined) {
      expect(l.status).toBe('native');
      expect(body(t)).toContain(model.styles.map['studio-product']);
    } else {
      expect(l.status).toBe('emulated');
      expect(body(t)).toContain('softbox lighting');
    }
  });

  it('sends a negative prompt natively, as an avoid sentence, or drops it with the reason', () => {
    const t = run(model, { negativePrompt: 'plastic wrap' });
    const l = line(t, 'negativePrompt')!;
    if (model.negativePrompt) {
      expect(l.status).toBe('native');
      expect(body(t)).toContain('plastic wrap');
    } else if (model.negativeEmulation!.mode === 'clause') {
      expect(l.status).toBe('emulated');
      expect(t.native.prompt).toBe('a ribeye steak on a wooden board. Avoid: plastic wrap.');
    } else {
      expect(l.status).toBe('dropped');
      expect(l.note).toContain(model.negativeEmulation!.reason);
      expect(body(t)).not.toContain('plastic wrap');
      expect(body(t)).not.toContain('Avoid');
    }
  });

  it('fails in strict mode exactly when something would be dropped or emulated', () => {
    const request = { cfgScale: 9, negativePrompt: 'blur', style: 'cinematic', seed: 5, steps: 30 };
    const loose = run(model, request);
    const lossy = loose.report.filter((l) => l.status === 'dropped' || l.status === 'emulated');
    const strict = () => run(model, { ...request, onUnsupported: 'error' });
    if (lossy.length === 0) {
      expect(strict).not.toThrow();
      return;
    }
    expect(strict).toThrow(PixelError);
    try {
      strict();
    } catch (error) {
      expect((error as PixelError).code).toBe('failed_precondition');
      expect((error as PixelError).message).toContain(lossy[0]!.param);
    }
  });
});

describe('retired models', () => {
  it.each(retired.map((m) => [m.id, m] as const))(
    '%s is refused with its replacement named',
    (_id, model) => {
      try {
        run(model);
        expect.unreachable('a retired model must be refused');
      } catch (error) {
        expect(PixelError.isInstance(error)).toBe(true);
        const e = error as PixelError;
        expect(e.code).toBe('failed_precondition');
        expect(e.field).toBe('model');
        if (model.status.state === 'retired') expect(e.message).toContain(model.status.replacement);
      }
    },
  );
});

describe('request validation', () => {
  const bad: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['cfg too high', { cfgScale: 35 }, 'cfgScale', /cfgScale must be between 1 and 20, got 35/],
    ['cfg wrong type', { cfgScale: 'high' }, 'cfgScale', /cfgScale must be a number, got "high"/],
    ['empty prompt', { prompt: '   ' }, 'prompt', /prompt must not be empty/],
    ['oversized prompt', { prompt: 'x'.repeat(32_001) }, 'prompt', /at most 32000 characters/],
    ['n of 0', { n: 0 }, 'n', /n must be between 1 and 16, got 0/],
    ['n of 10000', { n: 10_000 }, 'n', /n must be between 1 and 16, got 10000/],
    ['width of 7', { width: 7 }, 'width', /width must be between 64 and 8192, got 7/],
    ['width of 100000', { width: 100_000 }, 'width', /got 100000/],
    ['fractional seed', { seed: 1.5 }, 'seed', /seed must be an integer/],
    ['negative seed', { seed: -1 }, 'seed', /seed must be between 0 and 4294967295, got -1/],
    ['unknown style', { style: 'vaporwave' }, 'style', /style must be one of/],
    ['bad ratio', { aspectRatio: 'wide' }, 'aspectRatio', /W:H/],
    ['unknown field', { colour: 'red' }, 'colour', /unknown field colour/],
  ];
  it.each(bad)('%s → a clear error naming the field', (_name, extra, field, message) => {
    try {
      translate({ prompt: 'an apple', ...extra }, { catalog });
      expect.unreachable();
    } catch (error) {
      expect(PixelError.isInstance(error)).toBe(true);
      expect((error as PixelError).code).toBe('invalid_argument');
      expect((error as PixelError).field).toBe(field);
      expect((error as PixelError).message).toMatch(message);
    }
  });

  it('names the model when it is unknown, with suggestions', () => {
    expect(() => translate({ prompt: 'an apple', model: 'openai/gpt-image-15' }, { catalog })).toThrow(
      /gpt-image-1\.5/,
    );
  });

  it('refuses a transparent JPEG', () => {
    expect(() =>
      translate({ prompt: 'an apple', format: 'jpeg', background: 'transparent' }, { catalog }),
    ).toThrow(/background/);
  });

  it('rejects provider options Pixel manages, and unknown ones, naming the field', () => {
    expect(() =>
      translate(
        {
          prompt: 'apple',
          model: 'openai/gpt-image-1.5',
          providerOptions: { openai: { size: '1024x1024' } },
        },
        { catalog },
      ),
    ).toThrow(/providerOptions\.openai\.size/);
    expect(() =>
      translate(
        { prompt: 'apple', model: 'openai/gpt-image-1.5', providerOptions: { openai: { bogus: 1 } } },
        { catalog },
      ),
    ).toThrow(/providerOptions\.openai\.bogus/);
  });
});

describe('aliases', () => {
  it('routes flux-dev to its first route and reports the route', () => {
    const t = translate({ prompt: 'a pear', model: 'flux-dev' }, { catalog });
    expect(t.requestedModel).toBe('flux-dev');
    expect(t.model.id).toBe(catalog.resolve('flux-dev').routes[0]!.id);
    expect(line(t, 'model')!.sent).toBe(t.model.id);
  });
});
