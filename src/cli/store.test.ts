import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../server/test-support.ts';
import { ALGORITHMIC_MEDIA, readLineage } from '../storage/lineage/index.ts';
import { type CliRun, KEYLESS_ENV, runCli } from './test-cli.ts';

// Opening a fresh embedded catalogue (initdb + migrations) is the slow part of these tests on a busy machine:
// they share one data folder, and each test picks out its own images by a word in the prompt.
const SLOW = { timeout: 300_000 };

let root: string;
let data: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pixel-cli-store-'));
  data = join(root, 'data');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const pixel = (...args: string[]) => runCli({ ...KEYLESS_ENV, PIXEL_DATA_DIR: data }, args);
const ok = (run: CliRun) => {
  expect(run.timedOut, `${run.stderr} (still running after ${Math.round(run.ms)} ms)`).toBe(false);
  expect(run.code, run.stderr).toBe(0);
  return run;
};
const json = <T = Record<string, unknown>>(run: CliRun): T => JSON.parse(ok(run).stdout) as T;

interface Generated {
  storedIn: unknown;
  images: Array<{ id: string; url: string; path?: string; seed?: number }>;
}

describe('pixel generate stores in the catalogue', () => {
  it(
    'prints img_ ids, and --out copies carry lineage naming the image, team and source type',
    SLOW,
    async () => {
      const out = join(root, 'copies');
      const result = json<Generated>(
        await pixel(
          'generate',
          'a red apple',
          '--width',
          '256',
          '--height',
          '256',
          '--seed',
          '5',
          '--out',
          out,
          '--json',
        ),
      );
      expect(result.storedIn).toEqual({ kind: 'catalogue' });
      expect(result.images).toHaveLength(1);
      const [image] = result.images;
      expect(image!.id).toMatch(/^img_[0-9A-Z]{26}$/);
      expect(image!.path).toBe(join(out, `${image!.id}.png`));
      const bytes = new Uint8Array(await readFile(image!.path!));
      const lineage = readLineage(bytes, 'image/png');
      expect(lineage.record).toMatchObject({ id: image!.id, team: 'local', route: 'pixel/sketch', seed: 5 });
      expect(lineage.digitalSourceType).toBe(ALGORITHMIC_MEDIA);

      // The catalogue has the row, and the blob is the copy's bytes.
      const row = json(await pixel('images', 'get', image!.id, '--json'));
      expect(row).toMatchObject({
        id: image!.id,
        team: 'local',
        status: 'stored',
        prompt: 'a red apple',
        seed: 5,
      });
      expect(row.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      const blob = await readFile(join(data, 'blobs', String(row.key)));
      expect(Buffer.compare(blob, Buffer.from(bytes))).toBe(0);

      const text = ok(await pixel('generate', 'a lemon', '--width', '128', '--height', '128'));
      expect(text.stdout).toMatch(
        /^img_[0-9A-Z]{26}\s+http:\/\/\S+\/files\/images\/\S+\.png\s+128x128 image\/png/m,
      );
      expect(text.stdout).toContain('stored in the catalogue');
    },
  );

  it(
    'an application run records its application, version and team in the row and the lineage',
    SLOW,
    async () => {
      const out = join(root, 'app-copies');
      const run = await pixel(
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
      const [image] = json<Generated>(run).images;
      const lineage = readLineage(new Uint8Array(await readFile(image!.path!)), 'image/png');
      expect(lineage.record).toMatchObject({
        team: 'local',
        application: { name: 'produce', version: expect.any(Number) },
      });
      const row = json(await pixel('images', 'get', image!.id, '--json'));
      expect(row.application).toBe('produce');
      expect(Number(row.appVersion)).toBe((lineage.record!.application as { version: number }).version);
    },
  );

  it('--no-store writes loose files and opens no catalogue', SLOW, async () => {
    const fresh = join(root, 'never-opened');
    const out = join(root, 'loose');
    const run = await runCli({ ...KEYLESS_ENV, PIXEL_DATA_DIR: fresh }, [
      'generate',
      'a pear',
      '--width',
      '128',
      '--height',
      '128',
      '--no-store',
      '--out',
      out,
      '--json',
    ]);
    const result = json<Generated>(run);
    expect(result.storedIn).toEqual({ kind: 'none' });
    expect(result.images[0]!.id).toBeUndefined();
    expect(await readdir(out)).toHaveLength(1);
    expect(existsSync(fresh)).toBe(false);
  });
});

describe('pixel images', () => {
  it('lists with the filters of ListImages, gets and deletes', SLOW, async () => {
    const made: string[] = [];
    for (const prompt of ['two quinces', 'a quince steak', 'three QUINCES and a fig']) {
      made.push(
        json<Generated>(await pixel('generate', prompt, '--width', '96', '--height', '96', '--json'))
          .images[0]!.id,
      );
    }
    type Page = { images: Array<{ id: string; status: string }>; nextPageToken?: string };
    const list = async (...args: string[]) =>
      json<Page>(await pixel('images', 'list', '--prompt', 'quince', ...args, '--json'));
    const ids = (page: Page) => page.images.map((i) => i.id);
    expect(ids(await list())).toEqual([made[2], made[1], made[0]]);
    expect(ids(await list('--prompt', 'FIG'))).toEqual([made[2]]);
    const first = await list('--limit', '2');
    expect(ids(first)).toEqual([made[2], made[1]]);
    expect(first.nextPageToken).toBeDefined();
    expect(ids(await list('--limit', '2', '--page-token', first.nextPageToken!))).toEqual([made[0]]);
    // Every other filter reaches the catalogue the same way (their mapping: images/filters.test.ts).
    expect(ids(await list('--team', 'grocery', '--model', 'pixel/sketch'))).toEqual([]);

    expect(json(await pixel('images', 'delete', made[1]!, '--json'))).toEqual({ id: made[1], deleted: true });
    expect(ids(await list())).toEqual([made[2], made[0]]);
    expect(ids(await list('--status', 'deleted'))).toEqual([made[1]]);
    const again = await pixel('images', 'delete', made[1]!);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/not found/);

    const text = ok(await pixel('images', 'list', '--prompt', 'fig'));
    expect(text.stdout).toMatch(
      new RegExp(
        `^${made[2]}\\s+\\S+\\s+local\\s+pixel/sketch\\s+96x96\\s+stored\\s+three QUINCES and a fig$`,
        'm',
      ),
    );
  });

  it('refuses bad filters naming the flag, without opening the catalogue', SLOW, async () => {
    const fresh = join(root, 'bad-filters');
    // One per kind of check; every case is in images/filters.test.ts.
    const cases: Array<[string[], RegExp]> = [
      [['--status', 'gone'], /--status must be one of stored, rejected, deleted/],
      [['--after', 'yesterday'], /--after must be an ISO 8601 date/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli({ ...KEYLESS_ENV, PIXEL_DATA_DIR: fresh }, ['images', 'list', ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
    }
    expect(existsSync(fresh)).toBe(false);
  });
});

describe('every command closes what it opened', () => {
  it('runs each command twice on one data folder and each run exits by itself', SLOW, async () => {
    const id = json<Generated>(await pixel('generate', 'a plum', '--width', '64', '--height', '64', '--json'))
      .images[0]!.id;
    const commands: string[][] = [
      ['generate', 'a plum', '--width', '64', '--height', '64'],
      ['generate', '--app', 'produce', '--var', 'item=plum', '--width', '64', '--height', '64', '--json'],
      ['generate', 'a plum', '--width', '64', '--height', '64', '--no-store', '--out', join(root, 'twice')],
      ['images', 'list', '--json'],
      ['images', 'get', id],
      ['apps', 'list'],
      ['apps', 'preview', 'produce', '--var', 'item=plum', '--json'],
      ['models', '--json'],
      ['translate', 'a plum', '--json'],
      ['keys', 'list'],
      ['sweep', '--json'],
      ['export', 'snowflake', '--prefix', 'exports/twice', '--json'],
    ];
    for (const args of commands) {
      for (let round = 0; round < 2; round++) {
        // 60 s is far beyond a run's work here; a command that leaves a handle open never exits at all.
        const run = await runCli({ ...KEYLESS_ENV, PIXEL_DATA_DIR: data }, args, 60_000);
        expect([args.join(' '), round, run.timedOut, run.code]).toEqual([args.join(' '), round, false, 0]);
      }
    }
    const deleted = await runCli({ ...KEYLESS_ENV, PIXEL_DATA_DIR: data }, ['images', 'delete', id], 60_000);
    expect([deleted.timedOut, deleted.code]).toEqual([false, 0]);
  });
});

describe('a server holding the data folder', () => {
  it('a holder that did not say where it listens is named, with the ways out', SLOW, async () => {
    const held = join(root, 'held');
    await mkdir(join(held, 'pglite'), { recursive: true });
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await writeFile(join(held, 'pglite', 'pixel.lock'), String(holder.pid));
      const env = { ...KEYLESS_ENV, PIXEL_DATA_DIR: held };
      const run = await runCli(env, ['generate', 'a fig']);
      expect([run.timedOut, run.code]).toEqual([false, 2]);
      expect(run.stderr).toMatch(new RegExp(`in use by process ${holder.pid}`));
      expect(run.stderr).toMatch(/--server URL, or generate without storing with --no-store/);
      const images = await runCli(env, ['images', 'list']);
      expect(images.code).toBe(2);
      expect(images.stderr).toMatch(/--server URL/);
      expect(images.stderr).not.toMatch(/--no-store/);
    } finally {
      holder.kill();
    }
  });

  it('the CLI says so and sends generate and images to it; --server names one explicitly', SLOW, async () => {
    const served = join(root, 'served');
    const server = await startTestServer({ dataDir: served });
    try {
      const out = join(root, 'served-copies');
      const run = ok(
        await runCli({ ...KEYLESS_ENV, PIXEL_DATA_DIR: served }, [
          'generate',
          'a green apple',
          '--width',
          '128',
          '--height',
          '128',
          '--seed',
          '9',
          '--out',
          out,
          '--json',
        ]),
      );
      expect(run.stderr).toContain(`held by \`pixel serve\` (process ${process.pid}) at ${server.url}`);
      const result = JSON.parse(run.stdout) as Generated;
      expect(result.storedIn).toEqual({ kind: 'server', url: server.url });
      const [image] = result.images;
      expect(image!.id).toMatch(/^img_/);
      expect(image!.seed).toBe(9);
      // The copy is the server's stored image, lineage and all.
      const lineage = readLineage(new Uint8Array(await readFile(image!.path!)), 'image/png');
      expect(lineage.record).toMatchObject({ id: image!.id, team: 'local' });

      const listed = ok(
        await runCli({ ...KEYLESS_ENV, PIXEL_DATA_DIR: served }, ['images', 'list', '--json']),
      );
      expect(JSON.parse(listed.stdout).images.map((i: { id: string }) => i.id)).toEqual([image!.id]);

      // From anywhere, with --server.
      const elsewhere = { ...KEYLESS_ENV, PIXEL_DATA_DIR: join(root, 'elsewhere') };
      const explicit = ok(await runCli(elsewhere, ['generate', 'a kiwi', '--server', server.url, '--json']));
      expect(JSON.parse(explicit.stdout).storedIn).toEqual({ kind: 'server', url: server.url });
      const got = ok(await runCli(elsewhere, ['images', '--server', server.url, 'get', image!.id, '--json']));
      expect(JSON.parse(got.stdout)).toMatchObject({ id: image!.id, seed: 9 });
      const refused = await runCli(elsewhere, ['generate', 'a kiwi', '--server', server.url, '--cfg', '35']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/cfgScale must be between 1 and 20, got 35/);
      expect(existsSync(join(root, 'elsewhere'))).toBe(false);
    } finally {
      await server.stop();
    }
  });
});
