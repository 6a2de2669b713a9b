import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = new URL('./main.ts', import.meta.url).pathname;
// No provider keys: the CLI must fall back to pixel/sketch and report unconfigured providers clearly.
const ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !/^(OPENAI|STABILITY|REPLICATE|FAL|BFL|GOOGLE|GEMINI|AWS|A1111|COMFYUI|PIXEL)_/.test(k),
  ),
);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runCli(env: NodeJS.ProcessEnv, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { env, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Commands that open no catalogue (generate with --no-store, translate, models): nothing lands in ./data. */
function pixel(...args: string[]): Promise<Run> {
  return runCli({ ...ENV, PIXEL_DATA_DIR: join(dir, 'unused-data') }, args);
}

/** Runs with its own data folder (applications live in the embedded catalogue). */
function pixelIn(dataDir: string, ...args: string[]): Promise<Run> {
  return runCli({ ...ENV, PIXEL_DATA_DIR: dataDir }, args);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pixel-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pixel generate --no-store', () => {
  it('writes loose images of exactly the requested size and format, and prints the report', async () => {
    const out = join(dir, 'exact');
    const run = await pixel(
      'generate',
      'a ribeye steak on a slate board',
      '--width',
      '333',
      '--height',
      '777',
      '--format',
      'webp',
      '--n',
      '2',
      '--seed',
      '0',
      '--no-store',
      '--out',
      out,
      '--json',
    );
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.model).toBe('pixel/sketch');
    expect(result.images).toHaveLength(2);
    expect(result.images.map((i: { seed: number }) => i.seed)).toEqual([0, 1]);
    for (const image of result.images) {
      const meta = await sharp(await readFile(image.path)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['webp', 333, 777]);
    }
    expect(result.report.find((l: { param: string }) => l.param === 'seed')).toMatchObject({
      status: 'native',
      sent: 0,
    });
  });

  it('is deterministic: the same prompt, size and seed give the same bytes', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    const args = [
      'a green apple and a lemon',
      '--width',
      '256',
      '--height',
      '256',
      '--seed',
      '42',
      '--no-store',
    ];
    expect((await pixel('generate', ...args, '--out', a)).code).toBe(0);
    expect((await pixel('generate', ...args, '--out', b)).code).toBe(0);
    const [fa] = await readdir(a);
    const [fb] = await readdir(b);
    expect(Buffer.compare(await readFile(join(a, fa!)), await readFile(join(b, fb!)))).toBe(0);
  });

  it('prints a readable report in text mode', async () => {
    const run = await pixel(
      'generate',
      'cheese and crackers',
      '--aspect',
      '16:9',
      '--style',
      'lifestyle',
      '--no-store',
      '--out',
      join(dir, 'text'),
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/pixel_sketch-\d+-.*\.png\s+\d+x\d+ image\/png/);
    expect(run.stdout).toContain('placeholder renderer');
    expect(run.stdout).toMatch(/style\s+native/);
  });

  // Its first run opens a new embedded catalogue (initdb + migrations): slow on a busy machine.
  it('renders an application profile with --app and --var', { timeout: 180_000 }, async () => {
    const out = join(dir, 'app');
    const run = await pixelIn(
      join(dir, 'app-data'),
      'generate',
      '--app',
      'produce',
      '--var',
      'item=green apple',
      '--width',
      '256',
      '--height',
      '256',
      '--out',
      out,
      '--json',
    );
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.model).toBe('pixel/sketch');
    expect(result.report.find((l: { param: string }) => l.param === 'app').note).toMatch(
      /application produce version \d+/,
    );
    const missing = await pixelIn(join(dir, 'app-data'), 'generate', '--app', 'produce', '--out', out);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing template variable.*item/);
  });

  it('fails clearly when the model provider is not configured', async () => {
    const run = await pixel(
      'generate',
      'an apple',
      '--model',
      'openai/gpt-image-1.5',
      '--no-store',
      '--out',
      join(dir, 'none'),
    );
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/provider openai is not configured/);
  });
});

describe('pixel translate', () => {
  it('prints the native request and the report without generating', async () => {
    const run = await pixel(
      'translate',
      'a red apple',
      '--model',
      'bfl/flux-dev',
      '--width',
      '1000',
      '--height',
      '700',
      '--cfg',
      '20',
      '--seed',
      '7',
      '--json',
    );
    expect(run.code).toBe(0);
    const t = JSON.parse(run.stdout);
    expect(t.model).toBe('bfl/flux-dev');
    expect(t.calls[0].body).toMatchObject({ prompt: 'a red apple', seed: 7 });
    expect(t.calls[0].body.width % 32).toBe(0);
    expect(t.delivery).toMatchObject({ fit: 'exact', width: 1000, height: 700 });
    expect(t.report.find((l: { param: string }) => l.param === 'cfgScale').sent).toBe(5);
  });

  it('fails in strict mode naming what cannot be honoured', async () => {
    const run = await pixel(
      'translate',
      'a pear',
      '--model',
      'openai/gpt-image-1.5',
      '--negative',
      'stems',
      '--on-unsupported',
      'error',
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot honour negativePrompt/);
  });

  it('refuses a retired model and names its replacement', async () => {
    const run = await pixel('translate', 'a pear', '--model', 'openai/dall-e-3');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/retired/);
    expect(run.stderr).toMatch(/gpt-image/);
  });
});

describe('pixel models', () => {
  it('lists the catalogue with capabilities and status', async () => {
    const json = await pixel('models', '--json');
    expect(json.code).toBe(0);
    const { models, aliases } = JSON.parse(json.stdout);
    expect(models.some((m: { id: string }) => m.id === 'pixel/sketch')).toBe(true);
    expect(aliases.some((a: { alias: string }) => a.alias === 'flux-dev')).toBe(true);
    const text = await pixel('models');
    expect(text.stdout).toMatch(/openai\/dall-e-3\s+retired/);
  });
});

describe('bad input exits non-zero with a clear message', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown model', ['--model', 'nope/nothing'], /unknown model|not found/i],
    ['cfg out of range', ['--cfg', '35'], /cfgScale must be between 1 and 20, got 35/],
    ['cfg wrongly typed', ['--cfg', 'loud'], /cfgScale must be a number, got "loud"/],
    ['n of 0', ['--n', '0'], /n must be between 1 and 16, got 0/],
    ['n of 10,000', ['--n', '10000'], /n must be between 1 and 16, got 10000/],
    ['width of 7', ['--width', '7'], /width must be between 64 and 8192, got 7/],
    ['width of 100,000', ['--width', '100000'], /width must be between 64 and 8192, got 100000/],
    ['bad format', ['--format', 'gif'], /format must be one of/],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const run = await pixel('translate', 'an apple', ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('an empty prompt', async () => {
    const run = await pixel('translate', '   ');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/prompt must not be empty/);
  });

  it('an oversized prompt', async () => {
    const run = await pixel('translate', 'a'.repeat(32_001));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/prompt must be at most 32000 characters/);
  });

  it('errors as JSON with --json', async () => {
    const run = await pixel('translate', 'an apple', '--seed', '-1', '--json');
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).error).toMatchObject({
      code: 'invalid_argument',
      field: 'seed',
      retryable: false,
    });
  });
});
