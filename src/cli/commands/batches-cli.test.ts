import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = new URL('../main.ts', import.meta.url).pathname;
const ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !/^(OPENAI|STABILITY|REPLICATE|FAL|BFL|GOOGLE|GEMINI|AWS|A1111|COMFYUI|PIXEL|DATABASE)_/.test(k),
  ),
);

let dir: string;
function pixel(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { env: { ...ENV, PIXEL_DATA_DIR: join(dir, 'data') }, cwd: dir, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pixel-batches-cli-'));
  await writeFile(
    join(dir, 'items.csv'),
    'external_id,category,item,count\nsku-1,fruit,pear,two\nsku-2,fruit\nsku-3,fruit,plum,one\n',
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pixel datasets | experiments | runs | usage (embedded catalogue)', () => {
  it('imports with bad rows reported, runs an offline experiment to its report, and shows usage', async () => {
    const imported = await pixel('datasets', 'import', 'items.csv', '--name', 'fruit');
    expect(imported.code).toBe(0);
    expect(imported.stderr).toContain("items.csv:3: expected 4 fields (the header's), got 2");
    expect(imported.stdout).toMatch(/imported 2 items as fruit \(ds_\w+\); 1 bad rows skipped/);

    const again = await pixel('datasets', 'import', 'items.csv', '--name', 'fruit', '--json');
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout).error).toMatchObject({ code: 'already_exists', field: 'name' });

    const exp = await pixel(
      'experiments',
      'run',
      '--dataset',
      'fruit',
      '--app',
      'produce',
      '--candidate',
      'pixel/sketch',
      '--candidate',
      'pixel/sketch style=line-art cfgScale=9',
      '--wait',
      '--json',
    );
    expect(exp.code).toBe(0);
    const { progress, report } = JSON.parse(exp.stdout);
    expect(progress).toMatchObject({ state: 'done', done: 4, total: 4 });
    expect(report.candidates).toHaveLength(2);
    expect(report.candidates.map((c: { overrides: unknown }) => c.overrides)).toContainEqual({
      style: 'line-art',
      cfgScale: 9,
    });

    const csv = await pixel('experiments', 'report', report.runId, '--csv', '-');
    expect(csv.code).toBe(0);
    expect(csv.stdout.trim().split('\n')).toHaveLength(3);

    const table = await pixel('experiments', 'report', report.runId);
    expect(table.stdout).toMatch(/recommended: pixel\/sketch/);
    expect(table.stdout).toMatch(/95% Wilson interval/);

    const cells = await pixel('runs', 'cells', report.runId, '--state', 'done', '--limit', '3', '--json');
    expect(cells.code).toBe(0);
    const page = JSON.parse(cells.stdout);
    expect(page.total).toBe(4);
    expect(page.cells).toHaveLength(3);
    expect(page.cells[0]).toMatchObject({ item: 0, candidate: 0, externalId: 'sku-1', state: 'done' });
    expect(page.cells[0].imageIds).toHaveLength(1);
    const rest = await pixel('runs', 'cells', report.runId, '--page', page.nextPageToken);
    expect(rest.stdout).toMatch(/item 1 \(sku-3\)\s+candidate 1 pixel\/sketch\s+done/);
    expect(rest.stdout).toMatch(/1 of 4 cells$/m);
    const badState = await pixel('runs', 'cells', report.runId, '--state', 'lost', '--json');
    expect(badState.code).toBe(2);
    expect(JSON.parse(badState.stdout).error).toMatchObject({ field: 'state' });

    const usage = await pixel('usage', '--json');
    expect(usage.code).toBe(0);
    const parsed = JSON.parse(usage.stdout);
    expect(parsed.totalImages).toBe(4);
    expect(parsed.byRun[0]).toMatchObject({ runId: report.runId, images: 4 });

    const bad = await pixel(
      'runs',
      'start',
      '--dataset',
      'fruit',
      '--app',
      'produce',
      '--model',
      'pixel/sketch',
      '--economy',
      '--deadline',
      '2h',
      '--json',
    );
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error).toMatchObject({ field: 'deadline' });
  }, 120_000);
});
