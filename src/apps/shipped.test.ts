import { rmSync } from 'node:fs';
import { fromJson, toJson } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppVersionRepo } from '../catalog/app-versions.ts';
import { type Db, openDatabase } from '../catalog/db.ts';
import { PreviewApplicationResponseSchema } from '../gen/pixel/v1/apps_pb.ts';
import { loadCatalog } from '../models/catalog.ts';
import { previewJson } from '../server/rpc-apps.ts';
import { avoidItems } from '../translate/prompt.ts';
import { loadApplicationFiles } from './load.ts';
import { Applications } from './service.ts';
import { copyOfShippedApps, VIEWER } from './testing.ts';

// The five shipped applications read as a food photographer and a prompt engineer would want:
// counts agree with their nouns, negatives are plain lists that are not repeated in the positive
// text, meat is described as meat (not as beef), and the rubric checks what matters per category.

const catalog = loadCatalog();
const shipped = loadApplicationFiles().apps.map((a) => a.profile);

describe('shipped applications as written', () => {
  it('all five load', () => {
    expect(shipped.map((p) => p.name).sort()).toEqual([
      'butcher-cuts',
      'lifestyle-carousel',
      'packaged-goods',
      'prepared-foods',
      'produce',
    ]);
  });

  const negatives = shipped.flatMap((p) => [
    [p.name, p.negativePrompt ?? ''] as const,
    ...Object.entries(p.variants).map(([name, v]) => [`${p.name}/${name}`, v.negativePrompt ?? ''] as const),
  ]);

  it.each(negatives)(
    '%s: the negative prompt is a plain list, with no conditions in it',
    (_name, negative) => {
      expect(negative).not.toMatch(/\b(unless|except|if|when|asked|only)\b/i);
    },
  );

  it.each(shipped.map((p) => [p.name, p] as const))(
    '%s: no negative is repeated as "no …" in the positive text',
    (_n, p) => {
      const items = avoidItems(p.negativePrompt ?? '').map((i) => i.toLowerCase());
      const positive = [p.template, ...p.fewShots.map((f) => f.prompt)].join(' ').toLowerCase();
      for (const item of items) {
        const head = item.split(' ')[0]!;
        expect(positive, item).not.toMatch(new RegExp(`\\b(no|without) (\\w+ )?${head}`));
      }
    },
  );

  it("butcher cuts: beef words come only from the cut's own features, never from the template", () => {
    const butcher = shipped.find((p) => p.name === 'butcher-cuts')!;
    expect(butcher.template).not.toMatch(/marbling|fat cap/i);
    expect(butcher.variants.tags!.template).not.toMatch(/marbling|fat cap/i);
  });

  it('every few-shot uses only declared variables, and each application has at least two', () => {
    for (const p of shipped) {
      expect(p.fewShots.length, p.name).toBeGreaterThanOrEqual(2);
      for (const shot of p.fewShots) {
        for (const name of Object.keys(shot.vars))
          expect(Object.keys(p.variables), `${p.name}: ${name}`).toContain(name);
      }
    }
  });
});

describe('shipped applications rendered', () => {
  let db: Db;
  let dir: string;
  let apps: Applications;
  beforeAll(async () => {
    db = await openDatabase({ memory: true });
    dir = copyOfShippedApps();
    apps = new Applications({ versions: new AppVersionRepo(db), catalog, dir });
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const resolve = (app: string, vars: Record<string, string>) =>
    apps.resolve({ app, vars, model: 'openai/gpt-image-1.5' });

  it('a pack of chicken thighs reads as a plural pack, never "a single … thighs"', async () => {
    const r = await resolve('butcher-cuts', { cut: 'bone-in chicken thighs', pieces: 'four' });
    expect(r.prompt).toContain('of four raw bone-in chicken thighs arranged side by side');
    expect(r.prompt).not.toContain('single');
    expect(r.rubric.find((q) => q.id === 'subject')!.question).toBe(
      'Does the image show four raw bone-in chicken thighs?',
    );
  });

  it('raw meat is checked for oxidised colour, and a T-bone for its bone', async () => {
    const plain = await resolve('butcher-cuts', { cut: 'pork chop' });
    const colour = plain.rubric.find((q) => q.id === 'fresh-colour')!;
    expect(colour).toMatchObject({ expected: 'no', critical: true });
    expect(colour.question).toMatch(/grey.*brown.*oxidised/);
    // no features given: the question about them is left out, not asked empty
    expect(plain.rubric.find((q) => q.id === 'defining-features')).toBeUndefined();
    expect(plain.prompt).not.toMatch(/marbling|fat cap/);

    const tbone = await resolve('butcher-cuts', {
      cut: 'T-bone steak',
      features: 'the T-shaped bone with the strip loin on one side and the tenderloin on the other',
    });
    expect(tbone.rubric.find((q) => q.id === 'defining-features')!.question).toBe(
      'Does the cut clearly show the T-shaped bone with the strip loin on one side and the tenderloin on the other?',
    );
    expect(tbone.prompt).toContain('clearly showing the T-shaped bone');
  });

  it('produce counts read grammatically ("3 green apples", not "3 green apple")', async () => {
    const r = await resolve('produce', { item: 'green apples', count: '3' });
    expect(r.rubric.find((q) => q.id === 'subject')!.question).toBe(
      'Does the image show exactly 3 green apples?',
    );
    expect(r.prompt).toMatch(
      /^Studio product photograph of 3 fresh green apples, with clean, unbranded natural skin/,
    );
    expect(r.negativePrompt).not.toContain('unless');
    // no ripeness given: no ripeness question
    expect(r.rubric.find((q) => q.id === 'ripeness')).toBeUndefined();
  });

  it('every rendered rubric question is a full question, with no template left in it', async () => {
    for (const p of shipped) {
      const example = Object.fromEntries(
        Object.entries(p.variables).map(([name, v]) => [name, v.example ?? v.default ?? name]),
      );
      const r = await resolve(p.name, example);
      for (const q of r.rubric) {
        expect(q.question, `${p.name}/${q.id}`).toMatch(/^[A-Z].*\?$/s);
        expect(q.question).not.toContain('{{');
        expect(q.question).not.toMatch(/\b(a|an) (a|an)\b/);
      }
    }
  });

  it('every few-shot situation renders cleanly for natural-language and tag-list models', async () => {
    for (const p of shipped) {
      for (const shot of p.fewShots) {
        for (const model of ['openai/gpt-image-1.5', 'stability/stable-diffusion-xl-1024-v1-0']) {
          const r = await apps.resolve({ app: p.name, vars: shot.vars, model });
          const where = `${p.name} ${model} ${JSON.stringify(shot.vars)}`;
          expect(r.prompt, where).not.toMatch(/\{\{|,\s*,|\s[,.]|\.\.|^[,\s]|,$/);
          // tag lists may leave out mood words (an occasion); the natural template uses every variable
          if (model.startsWith('openai/')) expect(r.unusedVars, where).toEqual([]);
        }
      }
    }
  });

  it('preview carries the few-shot examples for the prompt writer', async () => {
    const p = await apps.preview(
      { app: 'butcher-cuts', vars: { cut: 'ribeye steak' }, model: 'pixel/sketch' },
      VIEWER,
    );
    expect(p.resolved.fewShots.length).toBeGreaterThanOrEqual(3);
    expect(p.resolved.fewShots.some((f) => f.vars.cut === 'T-bone steak')).toBe(true);
    // …and PreviewApplication (RPC, and `pixel apps preview --json`) returns them
    const message = fromJson(PreviewApplicationResponseSchema, previewJson(p));
    expect(message.fewShots.length).toBe(p.resolved.fewShots.length);
    expect(message.fewShots[1]).toMatchObject({ vars: { cut: 'T-bone steak' } });
    expect(message.fewShots[1]!.note).toContain('bone');
    expect(toJson(PreviewApplicationResponseSchema, message)).toHaveProperty('fewShots');
  });
});
