import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = new URL('../cli/main.ts', import.meta.url).pathname;
const BASE_ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !/^(OPENAI|STABILITY|REPLICATE|FAL|BFL|GOOGLE|GEMINI|AWS|A1111|COMFYUI|PIXEL|DATABASE)_/.test(k),
  ),
);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;

function pixel(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, 'apps', ...args],
      { env: { ...BASE_ENV, PIXEL_DATA_DIR: dir }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pixel-apps-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Each command opens the embedded database in a new process, so the steps run in order in one test.
describe('pixel apps (end to end, embedded database)', () => {
  it('previews, then updates, labels, diffs and rolls back', { timeout: 240_000 }, async () => {
    const preview = await pixel(
      'preview',
      'prepared-foods',
      '--var',
      'dish=mac & cheese',
      '--var',
      'ingredients=elbow pasta, cheddar',
      '--model',
      'pixel/sketch',
      '--json',
    );
    expect(preview.code, preview.stderr).toBe(0);
    const p = JSON.parse(preview.stdout);
    expect(p.prompt).toMatch(/^Appetising food photograph of mac & cheese, served on a white ceramic plate/);
    expect(p.appVersion).toBe(1);
    expect(JSON.stringify(p.calls[0].body)).toContain('mac & cheese');

    const missing = await pixel('preview', 'prepared-foods', '--var', 'cuisine=thai');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing template variables: dish, ingredients');

    const show = await pixel('show', 'prepared-foods');
    expect(show.code, show.stderr).toBe(0);
    const file = join(dir, 'prepared-foods.yaml');
    await writeFile(file, show.stdout.replace('light neutral stone surface', 'dark slate surface'));
    const update = await pixel(
      'update',
      'prepared-foods',
      '--file',
      file,
      '--label',
      'production',
      '--message',
      'darker surface',
      '--json',
    );
    expect(update.code, update.stderr).toBe(0);
    expect(JSON.parse(update.stdout)).toMatchObject({ version: 2, label: 'production' });

    const after = JSON.parse(
      (
        await pixel(
          'preview',
          'prepared-foods',
          '--var',
          'dish=soup',
          '--var',
          'ingredients=leeks',
          '--model',
          'pixel/sketch',
          '--json',
        )
      ).stdout,
    );
    expect([after.appVersion, after.via]).toEqual([2, 'production']);
    expect(after.prompt).toContain('dark slate surface');

    const diff = await pixel('diff', 'prepared-foods', '1', '2');
    expect(diff.stdout).toMatch(/^-.*light neutral stone surface/m);
    expect(diff.stdout).toMatch(/^\+.*dark slate surface/m);

    const rollback = await pixel('rollback', 'prepared-foods', '--json');
    // production had no earlier target: the first label move has nothing to go back to
    expect(rollback.code).toBe(2);
    expect(JSON.parse(rollback.stdout).error.code).toBe('failed_precondition');
    expect((await pixel('label', 'prepared-foods', 'production', '1')).stdout).toContain(
      'production: v2 → v1',
    );
    const back = JSON.parse((await pixel('rollback', 'prepared-foods', '--json')).stdout);
    expect(back).toMatchObject({ label: 'production', from: 1, to: 2 });

    const list = JSON.parse((await pixel('list', '--json')).stdout);
    expect(list.find((a: { name: string }) => a.name === 'prepared-foods')).toMatchObject({
      latestVersion: 2,
      defaultVersion: 1,
      labels: { production: 2 },
    });
    expect(await readFile(file, 'utf8')).toContain('dark slate');
  });
});
