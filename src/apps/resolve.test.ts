import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppVersionRepo } from '../catalog/app-versions.ts';
import { type Db, openDatabase } from '../catalog/db.ts';
import { loadCatalog } from '../models/catalog.ts';
import { PixelError } from '../protocol/errors.ts';
import { parseGenerateRequest } from '../protocol/request.ts';
import { Applications } from './service.ts';
import { ADMIN, copyOfShippedApps, VIEWER } from './testing.ts';

const catalog = loadCatalog();
const ribeye = { cut: 'ribeye steak' };

describe('resolveApplication', () => {
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

  it('renders the natural-language template for gpt-image and flux, the tag list for SDXL', async () => {
    const gpt = await apps.resolve({ app: 'butcher-cuts', vars: ribeye, model: 'openai/gpt-image-1.5' });
    expect([gpt.family, gpt.variant, gpt.provenance.prompt]).toEqual(['gpt-image', 'natural', 'application']);
    expect(gpt.prompt).toMatch(
      /^Professional top-down product photograph of a single raw ribeye steak, the whole of it visible/,
    );
    const flux = await apps.resolve({ app: 'butcher-cuts', vars: ribeye, model: 'fal/fal-ai/flux/dev' });
    expect(flux.family).toBe('flux');
    expect(flux.prompt).toBe(gpt.prompt);

    const sdxl = await apps.resolve({
      app: 'butcher-cuts',
      vars: ribeye,
      model: 'stability/stable-diffusion-xl-1024-v1-0',
    });
    expect([sdxl.family, sdxl.variant, sdxl.provenance.prompt]).toEqual(['sdxl', 'tags', 'model-variant']);
    expect(sdxl.prompt.startsWith('raw ribeye steak, single butcher cut')).toBe(true);
    expect(sdxl.prompt).not.toContain('.');
    expect(sdxl.negativePrompt).toContain('lowres');
    expect(sdxl.provenance.negativePrompt).toBe('model-variant');
    // the variant's parameters apply to its families only
    expect([sdxl.params.steps, sdxl.provenance.steps]).toEqual([30, 'model-variant']);
    expect(gpt.params.steps).toBeUndefined();

    // a family no variant claims gets the base template
    const sketch = await apps.resolve({ app: 'butcher-cuts', vars: ribeye, model: 'pixel/sketch' });
    expect([sketch.variant, sketch.prompt]).toEqual([null, gpt.prompt]);
  });

  it('merges defaults: the request wins and the report says where each value came from', async () => {
    const r = await apps.resolve({
      app: 'butcher-cuts',
      vars: ribeye,
      request: { model: 'openai/gpt-image-1.5', quality: 'draft', n: 2, aspectRatio: '4:3' },
    });
    expect(r.params).toMatchObject({
      model: 'openai/gpt-image-1.5',
      quality: 'draft',
      n: 2,
      aspectRatio: '4:3',
      style: 'photographic',
      format: 'png',
    });
    // the request's size replaced the application's whole size
    expect(r.params.width).toBeUndefined();
    expect(r.params.height).toBeUndefined();
    expect(r.provenance).toMatchObject({
      quality: 'request',
      n: 'request',
      style: 'application',
      model: 'request',
      prompt: 'application',
    });
    const note = (param: string) => r.report.find((l) => l.param === param)?.note;
    expect(note('app')).toContain(`butcher-cuts version ${r.appVersion}`);
    expect(note('app.quality')).toBe('from the request (application value "high")');
    expect(note('app.style')).toBe('application default');
    expect(note('app.width')).toContain('replaced by the size in the request');
    // the result is a valid unified request
    const parsed = parseGenerateRequest(r.request);
    expect(parsed.prompt).toBe(r.prompt);
    expect(parsed.negativePrompt).toBe(r.negativePrompt);
  });

  it('renders the rubric with the item variables and returns the few-shots', async () => {
    const r = await apps.resolve({ app: 'butcher-cuts', vars: ribeye, model: 'pixel/sketch' });
    const subject = r.rubric.find((q) => q.id === 'subject')!;
    expect(subject).toMatchObject({
      question: 'Does the image show a single raw ribeye steak?',
      expected: 'yes',
      critical: true,
      category: 'subject',
    });
    expect(r.fewShots.length).toBeGreaterThan(0);
    expect(r.fewShots[0]!.vars.cut).toBe('ribeye steak');
  });

  it('lists every missing variable and reports unused ones', async () => {
    let error: unknown;
    try {
      await apps.resolve({
        app: 'lifestyle-carousel',
        vars: { occasion: 'a picnic' },
        model: 'pixel/sketch',
      });
    } catch (e) {
      error = e;
    }
    expect(PixelError.isInstance(error) && error.field).toBe('vars');
    expect((error as Error).message).toContain('items, scene');
    const r = await apps.resolve({
      app: 'produce',
      vars: { item: 'lemon', colour: 'yellow', mood: 'sunny' },
      model: 'pixel/sketch',
    });
    expect(r.unusedVars).toEqual(['colour', 'mood']);
    expect(r.report.find((l) => l.param === 'vars')).toMatchObject({
      status: 'dropped',
      requested: ['colour', 'mood'],
    });
  });

  it('routes a category to its fine-tune only when the catalogue has it, else falls back with a report line', async () => {
    const r = await apps.resolve({ app: 'butcher-cuts', vars: { ...ribeye, category: 'beef' } });
    expect(r.model).toBe('openai/gpt-image-1.5');
    expect(r.routedModel).toBeUndefined();
    expect(r.report.find((l) => l.param === 'app.model' && l.status === 'adjusted')?.note).toContain(
      'fine-tune ft/beef-cuts for category "beef" is not in the catalogue',
    );
    // a request naming a model is never re-routed
    const asked = await apps.resolve({
      app: 'butcher-cuts',
      vars: { ...ribeye, category: 'beef' },
      model: 'pixel/sketch',
    });
    expect([asked.model, asked.provenance.model]).toEqual(['pixel/sketch', 'request']);
  });

  it('falls back to a candidate that can run here when the default model cannot', async () => {
    const offline = new Applications({
      versions: new AppVersionRepo(db),
      catalog,
      dir,
      available: (id) => id.startsWith('pixel/'),
    });
    const r = await offline.resolve({ app: 'butcher-cuts', vars: ribeye });
    expect(r.model).toBe('pixel/sketch');
    expect(r.report.find((l) => l.param === 'app.model')).toMatchObject({
      status: 'adjusted',
      requested: 'openai/gpt-image-1.5',
    });
  });

  it('previews the rendered prompt and the native request without generating', async () => {
    const p = await apps.preview(
      { app: 'butcher-cuts', vars: ribeye, model: 'stability/stable-diffusion-xl-1024-v1-0' },
      VIEWER,
    );
    const body = p.translation.calls[0]!.body as Record<string, unknown>;
    expect(JSON.stringify(body)).toContain('raw ribeye steak, single butcher cut');
    expect(p.report[0]!.param).toBe('app');
    expect(p.report.some((l) => l.param === 'negativePrompt' && l.status === 'native')).toBe(true);
    // a team override changes what the preview shows for that team only
    const text = (await apps.get('butcher-cuts', ADMIN)).yaml.replace(
      'single raw {{cut}}',
      'single dry-aged raw {{cut}}',
    );
    await apps.update('butcher-cuts', text, ADMIN, { label: 'team:growth' });
    const growth = await apps.preview({ app: 'butcher-cuts', vars: ribeye, model: 'pixel/sketch' }, VIEWER);
    expect(growth.resolved.prompt).toContain('dry-aged');
    const other = await apps.preview(
      { app: 'butcher-cuts', vars: ribeye, model: 'pixel/sketch' },
      { ...VIEWER, team: 'fresh' },
    );
    expect(other.resolved.prompt).not.toContain('dry-aged');
  });
});
