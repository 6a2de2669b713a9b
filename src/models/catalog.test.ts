import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PixelError } from '../protocol/errors.ts';
import { BODY_BUILDERS } from '../translate/native/index.ts';
import { CATALOG_DIR, configuredProviders, defaultCatalog, defaultModelId, loadCatalog } from './catalog.ts';
import { readCatalogFile } from './load.ts';
import { TRANSPORTS } from './schema.ts';

const work = mkdtempSync(join(tmpdir(), 'pixel-catalog-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
beforeEach(() => {
  vi.stubEnv('PIXEL_CACHE_DIR', join(work, 'cache'));
  vi.stubEnv('PIXEL_CATALOG_CACHE', '');
});

let counter = 0;
/** A fresh folder holding the given catalogue files. */
function folder(files: Record<string, string>): string {
  const dir = join(work, `case-${++counter}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function caught(fn: () => unknown): PixelError {
  try {
    fn();
  } catch (error) {
    if (PixelError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a PixelError');
}

const MINIMAL = (id: string, extra = '') => `
  - id: ${id}
    provider: ${id.split('/')[0]}
    providerModelId: ${id.split('/').slice(1).join('/')}
    transport: local
    family: sketch
    displayName: ${id}
    sizes: { kind: free, multipleOf: 1, minSide: 64, maxSide: 4096, default: { width: 512, height: 512 } }
    cfg: null
    steps: null
    seed: { min: 0, max: 100 }
    negativePrompt: false
    negativeEmulation: { mode: clause }
    styles: null
    imagesPerCall: 1
    formats: [png]
    defaultFormat: png
    transparentBackground: false
    promptMaxLength: 100
    price: { kind: free }
    status: { state: active }${extra}
`;

describe('shipped catalogue', () => {
  it('every YAML file validates on its own, straight from the YAML (no cache)', () => {
    vi.stubEnv('PIXEL_CATALOG_CACHE', 'off');
    const files = readdirSync(CATALOG_DIR).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(10);
    let models = 0;
    for (const file of files) models += readCatalogFile(join(CATALOG_DIR, file)).data.models.length;
    expect(models).toBe(loadCatalog().list().length);
  });

  it('has the entries the platform promises, under <provider>/<id>', () => {
    const catalog = loadCatalog();
    const ids = catalog.list().map((m) => m.id);
    for (const id of [
      'openai/gpt-image-1.5',
      'openai/gpt-image-2',
      'openai/gpt-image-1-mini',
      'openai/gpt-image-1',
      'openai/dall-e-3',
      'openai/dall-e-2',
      'stability/sd3.5-large',
      'stability/sd3.5-large-turbo',
      'stability/sd3.5-medium',
      'stability/stable-image-core',
      'stability/stable-image-ultra',
      'stability/stable-diffusion-xl-1024-v1-0',
      'replicate/black-forest-labs/flux-schnell',
      'replicate/black-forest-labs/flux-dev',
      'replicate/black-forest-labs/flux-1.1-pro',
      'replicate/stability-ai/sdxl',
      'fal/fal-ai/flux/dev',
      'fal/fal-ai/flux/schnell',
      'fal/fal-ai/flux-pro/v1.1',
      'bfl/flux-dev',
      'bfl/flux-pro-1.1',
      'google/gemini-2.5-flash-image',
      'vertex/imagen-4.0-generate-001',
      'bedrock/amazon.titan-image-generator-v2:0',
      'bedrock/amazon.nova-canvas-v1:0',
      'bedrock/stability.sd3-5-large-v1:0',
      'a1111/sdxl',
      'comfyui/sdxl',
      'pixel/sketch',
    ]) {
      expect(ids).toContain(id);
    }
    for (const entry of catalog.list()) expect(entry.id.startsWith(`${entry.provider}/`)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('every transport has a body builder and every entry uses a known one', () => {
    for (const transport of TRANSPORTS) expect(typeof BODY_BUILDERS[transport]?.build).toBe('function');
    for (const entry of loadCatalog().list()) expect(BODY_BUILDERS[entry.transport]).toBeDefined();
  });

  it('marks the self-hosted entries and describes pixel/sketch as a placeholder', () => {
    const catalog = loadCatalog();
    expect(catalog.get('a1111/sdxl')?.selfHosted).toBe(true);
    expect(catalog.get('comfyui/sdxl')?.selfHosted).toBe(true);
    expect(catalog.get('openai/gpt-image-1.5')?.selfHosted).toBe(false);
    expect(catalog.get('pixel/sketch')?.description).toMatch(/placeholder.*not a diffusion model/s);
  });

  it('defaultCatalog() loads once and reuses the result', () => {
    expect(defaultCatalog()).toBe(defaultCatalog());
  });
});

describe('resolve', () => {
  const catalog = loadCatalog();

  it('resolves a model id to itself', () => {
    const { requested, routes } = catalog.resolve(' stability/sd3.5-large ');
    expect(requested).toBe('stability/sd3.5-large');
    expect(routes.map((r) => r.id)).toEqual(['stability/sd3.5-large']);
  });

  it('refuses retired models and names the replacement', () => {
    const error = caught(() => catalog.resolve('openai/dall-e-3'));
    expect(error.code).toBe('failed_precondition');
    expect(error.field).toBe('model');
    expect(error.reason).toBe('model_retired');
    expect(error.message).toBe('openai/dall-e-3 was retired on 2026-05-12; use openai/gpt-image-1.5 instead');
    for (const id of ['openai/dall-e-2', 'openai/gpt-image-1', 'google/imagen-4.0-generate-001']) {
      const retired = caught(() => catalog.resolve(id));
      const status = catalog.get(id)!.status as { replacement: string };
      expect(retired.reason).toBe('model_retired');
      expect(retired.message).toContain(`use ${status.replacement} instead`);
    }
  });

  it('still serves deprecated models (Imagen on Vertex)', () => {
    const { routes } = catalog.resolve('vertex/imagen-4.0-generate-001');
    expect(routes[0]!.status.state).toBe('deprecated');
  });

  it('expands aliases to their routes in order', () => {
    const ids = (name: string) => catalog.resolve(name).routes.map((r) => r.id);
    expect(ids('flux-dev')).toEqual([
      'fal/fal-ai/flux/dev',
      'replicate/black-forest-labs/flux-dev',
      'bfl/flux-dev',
    ]);
    expect(ids('flux-schnell')).toEqual([
      'fal/fal-ai/flux/schnell',
      'replicate/black-forest-labs/flux-schnell',
    ]);
    expect(ids('flux-pro')).toEqual([
      'bfl/flux-pro-1.1',
      'fal/fal-ai/flux-pro/v1.1',
      'replicate/black-forest-labs/flux-1.1-pro',
    ]);
    expect(ids('sd3.5-large')).toEqual(['stability/sd3.5-large', 'bedrock/stability.sd3-5-large-v1:0']);
    expect(ids('sdxl')).toEqual(['stability/stable-diffusion-xl-1024-v1-0', 'replicate/stability-ai/sdxl']);
    expect(ids('gpt-image')).toEqual(['openai/gpt-image-1.5']);
    expect(ids('sketch')).toEqual(['pixel/sketch']);
  });

  it('unknown names get not_found with up to three suggestions', () => {
    const error = caught(() => catalog.resolve('gpt-image-1.5'));
    expect(error.code).toBe('not_found');
    expect(error.reason).toBe('unknown_model');
    expect(error.field).toBe('model');
    const suggestions = /did you mean (.*)\?/.exec(error.message)![1]!.split(', ');
    expect(suggestions[0]).toBe('openai/gpt-image-1.5');
    expect(suggestions.length).toBeLessThanOrEqual(3);

    expect(caught(() => catalog.resolve('flux-devv')).message).toMatch(/did you mean flux-dev\b/);
    const none = caught(() => catalog.resolve('zzzzqqqq'));
    expect(none.code).toBe('not_found');
    expect(none.message).not.toContain('did you mean');
  });

  it('skips retired routes of an alias, and refuses an alias whose routes are all retired', () => {
    const dir = folder({
      'a.yaml': `models:${MINIMAL('pixel/new')}${MINIMAL(
        'pixel/old',
        "\n    status: { state: retired, date: '2026-01-02', replacement: pixel/new }",
      ).replace('    status: { state: active }\n    status', '    status')}
aliases:
  - { alias: mixed, routes: [pixel/old, pixel/new] }
  - { alias: gone, routes: [pixel/old] }
`,
    });
    const local = loadCatalog({ dir });
    expect(local.resolve('mixed').routes.map((r) => r.id)).toEqual(['pixel/new']);
    const error = caught(() => local.resolve('gone'));
    expect(error.reason).toBe('model_retired');
    expect(error.message).toContain('pixel/old was retired on 2026-01-02; use pixel/new instead');
  });
});

describe('self-hosted file', () => {
  it('overrides and adds a1111/comfyui entries, marking them selfHosted', () => {
    const file = join(folder({}), 'selfhosted.yaml');
    writeFileSync(
      file,
      `models:
  - id: a1111/sdxl
    provider: a1111
    providerModelId: juggernautXL_v9.safetensors
    transport: a1111
    family: sdxl
    displayName: Juggernaut XL on our GPU box
    sizes: { kind: free, multipleOf: 8, minSide: 512, maxSide: 1536, default: { width: 1024, height: 1024 } }
    cfg: { min: 1, default: 5, max: 15, param: cfg_scale, family: sdxl }
    steps: { kind: range, min: 10, default: 25, max: 60 }
    seed: { min: 0, max: 4294967295 }
    negativePrompt: true
    styles: null
    imagesPerCall: 2
    formats: [png]
    defaultFormat: png
    transparentBackground: false
    promptMaxLength: 5000
    price: { kind: free }
    status: { state: active }
${MINIMAL('comfyui/flux-schnell-fp8').replace('transport: local', 'transport: comfyui')}`,
    );
    const catalog = loadCatalog({ selfHostedFile: file });
    const a1111 = catalog.get('a1111/sdxl')!;
    expect(a1111.providerModelId).toBe('juggernautXL_v9.safetensors');
    expect(a1111.cfg?.default).toBe(5);
    // The self-hosted entry names a shipped guidance family and gets its useful range.
    expect(a1111.cfg?.useful).toEqual({ min: 1, default: 7, max: 15 });
    expect(a1111.selfHosted).toBe(true);
    expect(catalog.get('comfyui/flux-schnell-fp8')?.selfHosted).toBe(true);
    expect(catalog.list().length).toBe(loadCatalog().list().length + 1);
  });

  it('refuses hosted providers in the self-hosted file', () => {
    const file = join(folder({}), 'bad-selfhosted.yaml');
    writeFileSync(file, `models:${MINIMAL('openai/my-own')}`);
    const error = caught(() => loadCatalog({ selfHostedFile: file }));
    expect(error.field).toBe('models[0].provider');
    expect(error.message).toContain(`${file}:`);
    expect(error.message).toContain('must be a1111 or comfyui');
  });

  it('names a missing file', () => {
    const error = caught(() => loadCatalog({ selfHostedFile: join(work, 'nope.yaml') }));
    expect(error.code).toBe('failed_precondition');
    expect(error.message).toContain('nope.yaml');
  });
});

describe('catalogue errors name the file, the line, the entry and the field', () => {
  it('broken YAML', () => {
    // Line 4 is indented one space less than the mapping it should belong to.
    const dir = folder({
      'broken.yaml': 'models:\n  - id: pixel/x\n    provider: pixel\n   transport: local\n',
    });
    const error = caught(() => loadCatalog({ dir }));
    expect(error.code).toBe('failed_precondition');
    expect(error.reason).toBe('catalog_invalid');
    expect(error.message).toContain(`${join(dir, 'broken.yaml')}:4:`);
    expect(error.message).toContain('invalid YAML');
  });

  it('a wrongly typed field', () => {
    const text = `models:${MINIMAL('pixel/a')}${MINIMAL('pixel/b').replace('cfg: null', 'cfg: { min: low, default: 7, max: 20, param: cfg }')}`;
    const line = text.split('\n').findIndex((l) => l.includes('min: low')) + 1;
    const dir = folder({ 'typed.yaml': text });
    const error = caught(() => loadCatalog({ dir }));
    expect(error.field).toBe('models[1].cfg.min');
    expect(error.message).toContain(`${join(dir, 'typed.yaml')}:${line}`);
    expect(error.message).toContain('model "pixel/b" cfg.min');
  });

  it('an unknown field', () => {
    const dir = folder({ 'extra.yaml': `models:${MINIMAL('pixel/a', '\n    colour: blue')}` });
    const error = caught(() => loadCatalog({ dir }));
    expect(error.field).toBe('models[0].colour');
    expect(error.message).toContain('model "pixel/a" colour');
  });

  it('a cfg naming a guidance family no file defines', () => {
    const dir = folder({
      'family.yaml': `models:${MINIMAL('pixel/a').replace('cfg: null', 'cfg: { min: 1, default: 3, max: 20, param: cfg, family: flux-ultra }')}`,
    });
    const error = caught(() => loadCatalog({ dir }));
    expect(error.field).toBe('models[0].cfg.family');
    expect(error.message).toContain('"flux-ultra" is not a guidance family');
  });

  it('a cfg without a family says which families there are', () => {
    const dir = folder({
      'guidance.yaml': 'guidance:\n  - { id: sdxl, min: 1, default: 7, max: 15, source: test }\n',
      'nofamily.yaml': `models:${MINIMAL('pixel/a').replace('cfg: null', 'cfg: { min: 1, default: 3, max: 20, param: cfg }')}`,
    });
    const error = caught(() => loadCatalog({ dir }));
    expect(error.field).toBe('models[0].cfg.family');
    expect(error.message).toContain('name the guidance family of the weights (one of sdxl');
  });

  it('a guidance family is defined once, and hosts get its useful range', () => {
    const family = (id: string) =>
      `guidance:\n  - { id: ${id}, min: 1.5, default: 3.5, max: 5, source: test }\n`;
    const host = MINIMAL('pixel/a').replace(
      'cfg: null',
      'cfg: { min: 0, default: 3, max: 20, param: g, family: w }',
    );
    const ok = loadCatalog({ dir: folder({ 'a.yaml': `${family('w')}models:${host}` }) });
    expect(ok.get('pixel/a')!.cfg!.useful).toEqual({ min: 1.5, default: 3.5, max: 5 });
    const twice = caught(() =>
      loadCatalog({ dir: folder({ 'a.yaml': family('w'), 'b.yaml': family('w') }) }),
    );
    expect(twice.field).toBe('guidance[0].id');
    expect(twice.message).toContain('already defined');
  });

  it('a model without a negative prompt must say how one is emulated', () => {
    const dir = folder({
      'neg.yaml': `models:${MINIMAL('pixel/a').replace('    negativeEmulation: { mode: clause }\n', '')}`,
    });
    const error = caught(() => loadCatalog({ dir }));
    expect(error.field).toBe('models[0].negativeEmulation');
    expect(error.message).toContain('required when negativePrompt is false');
  });

  it('a default outside its own range', () => {
    const dir = folder({
      'range.yaml': `models:${MINIMAL('pixel/a').replace('cfg: null', 'cfg: { min: 1, default: 30, max: 20, param: cfg, family: sdxl }')}`,
    });
    const error = caught(() => loadCatalog({ dir }));
    expect(error.field).toBe('models[0].cfg');
    expect(error.message).toContain('min <= default <= max');
  });

  it('a default size the model cannot make', () => {
    const dir = folder({
      'size.yaml': `models:${MINIMAL('pixel/a').replace('multipleOf: 1', 'multipleOf: 64').replace('width: 512, height: 512', 'width: 500, height: 512')}`,
    });
    expect(caught(() => loadCatalog({ dir })).message).toContain('500x512 is not a multiple of 64');
  });

  it('an alias route or replacement that does not exist, and duplicates across files', () => {
    const badAlias = folder({
      'a.yaml': `models:${MINIMAL('pixel/a')}\naliases:\n  - { alias: x, routes: [pixel/a, pixel/zz] }\n`,
    });
    const aliasError = caught(() => loadCatalog({ dir: badAlias }));
    expect(aliasError.field).toBe('aliases[0].routes[1]');
    expect(aliasError.message).toContain('"pixel/zz" is not in the catalogue');

    const badReplacement = folder({
      'a.yaml': `models:${MINIMAL('pixel/a').replace(
        '    status: { state: active }',
        "    status: { state: retired, date: '2026-01-01', replacement: pixel/nowhere }",
      )}`,
    });
    expect(caught(() => loadCatalog({ dir: badReplacement })).field).toBe('models[0].status.replacement');

    const dup = folder({
      'a.yaml': `models:${MINIMAL('pixel/a')}`,
      'b.yaml': `models:${MINIMAL('pixel/a')}`,
    });
    const dupError = caught(() => loadCatalog({ dir: dup }));
    expect(dupError.message).toContain(join(dup, 'b.yaml'));
    expect(dupError.message).toContain(`already defined in ${join(dup, 'a.yaml')}`);
  });

  it('extra files add entries and aliases', () => {
    const extra = join(folder({}), 'ft.yaml');
    writeFileSync(
      extra,
      `models:${MINIMAL('pixel/extra-one')}\naliases:\n  - { alias: extra, routes: [pixel/extra-one] }\n`,
    );
    const catalog = loadCatalog({ extraFiles: [extra] });
    expect(catalog.resolve('extra').routes[0]!.id).toBe('pixel/extra-one');
  });
});

describe('parse cache', () => {
  it('gives the same catalogue from the cache, and survives a corrupt cache file', () => {
    const cacheDir = join(work, 'cache-check');
    vi.stubEnv('PIXEL_CACHE_DIR', cacheDir);
    const fresh = loadCatalog();
    const cachedFiles = readdirSync(cacheDir).filter((f) => f.endsWith('.json'));
    expect(cachedFiles.length).toBe(readdirSync(CATALOG_DIR).filter((f) => f.endsWith('.yaml')).length);
    expect(loadCatalog().list()).toEqual(fresh.list());
    for (const file of cachedFiles) writeFileSync(join(cacheDir, file), '{"models": [{"id": 1}]');
    expect(loadCatalog().list()).toEqual(fresh.list());
  });
});

describe('defaultModelId', () => {
  it('is pixel/sketch with no provider keys, whatever PIXEL_DEFAULT_MODEL says', () => {
    expect(defaultModelId({})).toBe('pixel/sketch');
    expect(defaultModelId({ PIXEL_DEFAULT_MODEL: 'openai/gpt-image-1.5' })).toBe('pixel/sketch');
  });

  it('is PIXEL_DEFAULT_MODEL (or pixel/sketch) once a provider is configured', () => {
    expect(defaultModelId({ OPENAI_API_KEY: 'sk-x', PIXEL_DEFAULT_MODEL: 'openai/gpt-image-1.5' })).toBe(
      'openai/gpt-image-1.5',
    );
    expect(defaultModelId({ FAL_KEY: 'k' })).toBe('pixel/sketch');
    expect(defaultModelId({ FAL_KEY: '  ', PIXEL_DEFAULT_MODEL: 'flux-dev' })).toBe('pixel/sketch');
  });

  it('knows which providers are configured (AWS needs both halves of a key pair)', () => {
    expect(configuredProviders({ AWS_ACCESS_KEY_ID: 'AKIA' })).toEqual([]);
    expect(
      configuredProviders({ AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 's', GEMINI_API_KEY: 'g' }),
    ).toEqual(['google', 'bedrock']);
  });
});
