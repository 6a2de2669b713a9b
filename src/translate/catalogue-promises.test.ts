import { describe, expect, it } from 'vitest';
import { loadApplicationFiles } from '../apps/load.ts';
import { defaultCatalog } from '../models/catalog.ts';
import type { ModelEntry } from '../models/schema.ts';
import { CFG_MAX, CFG_MIN, SEED_MAX } from '../protocol/request.ts';
import { mapCfg } from './cfg.ts';
import { defaultRandomSeed } from './plan-controls.ts';
import { estimateCost } from './price.ts';
import { usableRange } from './seed.ts';
import { STYLE_FRAGMENTS } from './style-fragments.ts';
import { translate } from './translate.ts';

// Table-driven over every non-retired catalogue entry: what each model is sent must read right,
// the same weights must get the same guidance everywhere, Pixel's own seeds must fit, and the
// models Pixel picks by default must have a price.

const catalog = defaultCatalog();
const usable = catalog.list().filter((m) => m.status.state !== 'retired');
const SUBJECT = 'a ribeye steak on a slate board.';

function run(model: ModelEntry, extra: Record<string, unknown>) {
  return translate({ model: model.id, prompt: SUBJECT, ...extra }, { catalog, randomSeed: () => 1 });
}

/** What the prompt must be, from the catalogue's data alone. */
function expectedPrompt(model: ModelEntry, style: keyof typeof STYLE_FRAGMENTS | undefined): string {
  const parts = ['a ribeye steak on a slate board.'];
  if (style && model.styles?.map[style] === undefined) {
    const fragment = STYLE_FRAGMENTS[style];
    parts.push(`${fragment.charAt(0).toUpperCase()}${fragment.slice(1)}.`);
  }
  if (!model.negativePrompt && model.negativeEmulation?.mode === 'clause')
    parts.push('Avoid: blur, knife, fork.');
  return parts.join(' ');
}

describe.each(usable.map((m) => [m.id, m] as const))('%s', (_id, model) => {
  it.each(['photographic', 'studio-product', 'line-art'] as const)(
    'assembles subject, then the %s style, then the avoid sentence, with clean punctuation',
    (style) => {
      const t = run(model, { style, negativePrompt: 'blur., knife,  fork ,' });
      expect(t.native.prompt).toBe(expectedPrompt(model, style));
      expect(t.native.prompt).not.toMatch(/\.,|,\.|\.\.|\s,|,,/);
      const avoidAt = t.native.prompt.indexOf('Avoid:');
      if (avoidAt >= 0)
        expect(avoidAt).toBeGreaterThan(t.native.prompt.lastIndexOf(STYLE_FRAGMENTS[style].slice(1)));
      if (model.negativePrompt) expect(t.native.negativePrompt).toBe('blur., knife,  fork ,');
    },
  );

  it('leaves a prompt with nothing to add exactly as written', () => {
    expect(run(model, {}).native.prompt).toBe(SUBJECT);
  });

  it('says how a negative prompt is handled: native, an avoid sentence, or dropped with the reason', () => {
    const line = run(model, { negativePrompt: 'knife' }).report.find((l) => l.param === 'negativePrompt')!;
    if (model.negativePrompt) expect(line.status).toBe('native');
    else if (model.negativeEmulation!.mode === 'clause') expect(line.status).toBe('emulated');
    else {
      expect(line.status).toBe('dropped');
      expect(line.note).toContain(model.negativeEmulation!.reason);
    }
  });

  it("Pixel's own seeds fall inside the model's range, for every call of a split request", () => {
    if (!model.seed) return;
    const { lo, hi } = usableRange(model.seed);
    expect(hi).toBeLessThanOrEqual(Math.min(model.seed.max, SEED_MAX));
    const extremes = [() => lo, () => hi, defaultRandomSeed];
    for (const randomSeed of extremes) {
      for (let round = 0; round < 20; round++) {
        const t = translate(
          { model: model.id, prompt: SUBJECT, n: 16 },
          { catalog, randomSeed: (a, b) => randomSeed(a, b) },
        );
        for (const call of t.calls) {
          expect(call.seed).toBeGreaterThanOrEqual(lo);
          expect(call.seed).toBeLessThanOrEqual(hi);
        }
      }
    }
  });

  it('records where its ranges come from, and a dated price or the reason there is none', () => {
    expect(model.source, 'source').toBeTruthy();
    if (model.price.kind === 'unknown') expect(model.price.reason.length).toBeGreaterThan(10);
    else if (model.price.kind !== 'free') expect(model.price.checked).toMatch(/^\d{4}-\d{2}/);
  });

  it('reports whether the provider rewrites the prompt, where it can', () => {
    const line = run(model, {}).report.find((l) => l.param === 'promptRewrite');
    if (!model.promptRewriter) {
      expect(line).toBeUndefined();
      return;
    }
    expect(line!.sent).toBe(model.promptRewriter.default);
    const off = run(model, {
      providerOptions: { [model.provider]: { [model.promptRewriter.field]: !model.promptRewriter.default } },
    });
    const set = off.report.find((l) => l.param === 'promptRewrite')!;
    expect(set.sent).toBe(!model.promptRewriter.default);
    expect(JSON.stringify(off.calls[0]!.body)).toContain(
      `"${model.promptRewriter.field}":${!model.promptRewriter.default}`,
    );
  });
});

describe('the same weights get the same guidance on every host', () => {
  const families = new Map<string, ModelEntry[]>();
  for (const model of usable) {
    const family = model.cfg?.family;
    if (family) families.set(family, [...(families.get(family) ?? []), model]);
  }

  it('every shipped entry with guidance names its family', () => {
    for (const model of usable) if (model.cfg) expect(model.cfg.family, model.id).toBeTruthy();
  });

  it('FLUX.1 dev is hosted on fal, Replicate and BFL, all on one family', () => {
    expect(
      families
        .get('flux-dev')!
        .map((m) => m.id)
        .sort(),
    ).toEqual(['bfl/flux-dev', 'fal/fal-ai/flux/dev', 'replicate/black-forest-labs/flux-dev']);
  });

  it.each([...families.entries()])(
    '%s: one native guidance per cfgScale, clamped only where a host must',
    (_f, hosts) => {
      for (let cfgScale = CFG_MIN; cfgScale <= CFG_MAX; cfgScale += 0.5) {
        const sent = hosts.map((model) => run(model, { cfgScale }).native.cfg);
        const mapped = mapCfg(cfgScale, hosts[0]!.cfg!.useful!);
        hosts.forEach((model, i) => {
          const expected = Math.min(model.cfg!.max, Math.max(model.cfg!.min, mapped));
          expect(sent[i], `${model.id} at ${cfgScale}`).toBe(expected);
        });
      }
    },
  );

  it('cfgScale 12 gives FLUX.1 dev guidance 4.08 on fal, Replicate and BFL alike', () => {
    const got = families.get('flux-dev')!.map((m) => run(m, { cfgScale: 12 }).native.cfg);
    expect(got).toEqual([4.08, 4.08, 4.08]);
  });

  it('a clamp to what the host accepts is reported as adjusted', () => {
    // SD3.5 Large Turbo's useful range starts at 1, which is also the least Stability accepts; SDXL on
    // ComfyUI accepts 0-100, so nothing there is clamped. A synthetic narrow host shows the clamp.
    const model = catalog.get('bfl/flux-dev')!;
    const narrow = { ...model, cfg: { ...model.cfg!, min: 2, max: 4 } };
    const t = translate(
      { model: model.id, prompt: SUBJECT, cfgScale: 20 },
      { catalog: { ...catalog, resolve: () => ({ requested: model.id, routes: [narrow] }) } },
    );
    const line = t.report.find((l) => l.param === 'cfgScale')!;
    expect(line.status).toBe('adjusted');
    expect(line.sent).toBe(4);
    expect(line.note).toMatch(/5 on the flux-dev guidance .*clamped to 4/);
  });
});

describe('prices', () => {
  const apps = loadApplicationFiles().apps.map((a) => a.profile);
  const defaults = new Set<string>(['pixel/sketch']);
  for (const alias of catalog.aliases()) defaults.add(catalog.resolve(alias.alias).routes[0]!.id);
  for (const app of apps) {
    if (app.defaults.model) defaults.add(catalog.resolve(app.defaults.model).routes[0]!.id);
  }

  it.each([...defaults])('default model %s has a known price and an estimate at its default size', (id) => {
    const model = catalog.get(id)!;
    expect(model.price.kind).not.toBe('unknown');
    expect(run(model, {}).costEstimateUsd).not.toBeNull();
  });

  it('prices GPT image models by size and quality', () => {
    const cost = (id: string, quality: string, width: number, height: number) =>
      translate({ model: id, prompt: 'x', quality, width, height }, { catalog }).costEstimateUsd;
    expect(cost('openai/gpt-image-1.5', 'high', 1024, 1536)).toBe(0.2);
    expect(cost('openai/gpt-image-1.5', 'draft', 1024, 1024)).toBe(0.009);
    expect(cost('openai/gpt-image-1-mini', 'standard', 1536, 1024)).toBe(0.015);
    expect(cost('openai/gpt-image-2', 'high', 1024, 1024)).toBe(0.211);
  });

  it('bills FLUX on fal per megapixel, rounded up per image', () => {
    const fal = catalog.get('fal/fal-ai/flux/dev')!;
    expect(estimateCost(fal.price, 1, 1024, 1024)).toBe(0.05); // 1.05 MP bills as 2
    expect(estimateCost(fal.price, 3, 1000, 1000)).toBe(0.075);
    expect(estimateCost(fal.price, 1, 1024, 768)).toBe(0.025);
  });

  it('says how Replicate bills: per image for FLUX, per second of hardware for SDXL', () => {
    expect(catalog.get('replicate/black-forest-labs/flux-dev')!.price.kind).toBe('per_image');
    const sdxl = catalog.get('replicate/stability-ai/sdxl')!.price;
    expect(sdxl.kind).toBe('per_second');
    if (sdxl.kind === 'per_second') expect(sdxl.hardware).toBeTruthy();
  });

  it('prices Stability in credits and Bedrock by area and quality', () => {
    expect(estimateCost(catalog.get('stability/sd3.5-large')!.price, 2, 1024, 1024)).toBe(0.13);
    const nova = catalog.get('bedrock/amazon.nova-canvas-v1:0')!.price;
    expect(estimateCost(nova, 1, 1024, 1024, 'standard')).toBe(0.04);
    expect(estimateCost(nova, 1, 2048, 2048, 'premium')).toBe(0.08);
  });
});
