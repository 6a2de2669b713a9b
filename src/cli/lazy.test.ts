import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from './command-table.ts';
import { KEYLESS_ENV } from './test-cli.ts';

const MAIN = new URL('./main.ts', import.meta.url).pathname;
const SRC = new URL('..', import.meta.url).pathname;

// A module hook that writes every URL the CLI process resolves into PIXEL_TEST_LOAD_LOG at exit.
const HOOK = `
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
const seen = new Set();
registerHooks({
  resolve(specifier, context, next) {
    const result = next(specifier, context);
    seen.add(result.url);
    return result;
  },
});
process.on('exit', () => writeFileSync(process.env.PIXEL_TEST_LOAD_LOG, [...seen].join('\\n')));
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pixel-lazy-'));
  await writeFile(join(dir, 'hook.mjs'), HOOK);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI and returns its output and the project files it loaded (relative to src/). */
async function loaded(
  name: string,
  args: string[],
): Promise<{ stdout: string; code: number; files: string[] }> {
  const log = join(dir, `${name}.log`);
  const env = { ...KEYLESS_ENV, PIXEL_DATA_DIR: join(dir, 'data'), PIXEL_TEST_LOAD_LOG: log };
  const { stdout, code } = await new Promise<{ stdout: string; code: number }>((resolve) => {
    execFile(process.execPath, ['--import', join(dir, 'hook.mjs'), MAIN, ...args], { env }, (error, out) =>
      resolve({ stdout: out, code: error ? Number(error.code ?? 1) : 0 }),
    );
  });
  const urls = (await readFile(log, 'utf8')).split('\n');
  const files = urls.filter((u) => u.startsWith(`file://${SRC}`)).map((u) => u.slice(`file://${SRC}`.length));
  return { stdout, code, files: [...files, ...urls.filter((u) => u.includes('/node_modules/'))] };
}

describe('commands load lazily', () => {
  it('pixel --help lists every command without loading any of them', { timeout: 60_000 }, async () => {
    const run = await loaded('help', ['--help']);
    expect(run.code).toBe(0);
    for (const entry of COMMANDS) expect(run.stdout).toMatch(new RegExp(`^\\s+${entry.name}\\b`, 'm'));
    expect(run.files.filter((f) => f.startsWith('cli/commands/'))).toEqual([]);
    expect(run.files.some((f) => f.startsWith('providers/') || f.startsWith('catalog/'))).toBe(false);
  });

  it('generate --no-store loads neither the database, the server nor the Connect client', {
    timeout: 120_000,
  }, async () => {
    const run = await loaded('no-store', [
      'generate',
      'a red apple',
      '--width',
      '64',
      '--height',
      '64',
      '--no-store',
      '--out',
      join(dir, 'out'),
      '--json',
    ]);
    expect(run.code).toBe(0);
    expect(run.files).toContain('cli/commands/generate.ts');
    expect(run.files).toContain('generate/generate.ts');
    const forbidden = run.files.filter(
      (f) =>
        f === 'catalog/db.ts' ||
        f.startsWith('server/') ||
        f.startsWith('platform/compose') ||
        f.startsWith('cli/commands/serve') ||
        f.includes('@electric-sql/pglite') ||
        f.includes('@connectrpc/connect-node') ||
        f.includes('/fastify/'),
    );
    expect(forbidden).toEqual([]);
  });
});
