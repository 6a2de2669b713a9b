import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetFolder } from '../../finetune/testing.ts';
import { KEYLESS_ENV, runCli } from '../test-cli.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('pixel finetune', () => {
  it('creates a dataset from a folder, trains on sketch with --wait, lists, shows status and refuses bad input', async () => {
    const data = mkdtempSync(join(tmpdir(), 'pixel-ft-cli-'));
    const folder = await datasetFolder(4);
    dirs.push(data, folder);
    const env = { ...KEYLESS_ENV, PIXEL_DATA_DIR: data };

    const created = await runCli(env, [
      'finetune',
      'datasets',
      'create',
      folder,
      '--name',
      'ube-cakes',
      '--category',
      'bakery',
      '--captions',
      'vlm',
      '--json',
    ]);
    expect(created.stderr).toBe('');
    const dataset = JSON.parse(created.stdout).dataset;
    expect(dataset).toMatchObject({ name: 'ube-cakes', category: 'bakery' });
    // Offline, the pixel/inspect stand-in captions the images that have no caption file.
    expect(dataset.images.map((i: { captionBy?: string }) => i.captionBy ?? null)).toEqual([
      null,
      'pixel/inspect',
      'pixel/inspect',
      'pixel/inspect',
    ]);

    const started = await runCli(
      env,
      [
        'finetune',
        'start',
        '--dataset',
        'ube-cakes',
        '--backend',
        'sketch',
        '--base',
        'pixel/sketch',
        '--trigger',
        'TOK',
        '--class',
        'ube cake',
        '--wait',
        '--json',
      ],
      180_000,
    );
    const job = JSON.parse(started.stdout).finetune;
    expect(job).toMatchObject({ state: 'succeeded', promoted: true, trigger: 'TOK', classNoun: 'ube cake' });
    expect(job.evaluation.passed).toBe(true);
    // Off a terminal, --wait says each state the job passes through on stderr, ending with the finished one.
    const states = started.stderr.trim().split('\n');
    expect(states.at(-1)).toBe('ft/ube-cakes/v1 [####################] 100% succeeded');
    expect(states.every((l) => /^ft\/ube-cakes\/v1 \[[#.]{20}\] \d+% [a-z]+$/.test(l))).toBe(true);

    const status = await runCli(env, ['finetune', 'status', job.id]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`${job.id}  ft/ube-cakes  succeeded`);
    expect(status.stdout).toMatch(
      /evaluation \(pixel\/inspect\): ft\/ube-cakes\/v1 scored \d+% against pixel\/sketch's \d+%/,
    );
    expect(status.stdout).toMatch(
      /pairwise \(pixel\/inspect\): win rate \d+% \(needs 50%\); \d+ won, \d+ tied, \d+ lost/,
    );
    expect(status.stdout).toMatch(
      /: fine-tune \d+%, base \d+% \((finetune|base|tie)\); pairwise (finetune|base|tie), P\(fine-tune better\) /,
    );

    const json = JSON.parse((await runCli(env, ['finetune', 'status', job.id, '--json'])).stdout).finetune;
    expect(json.progress).toBe(1);
    expect(json.evaluation.pairwise).toMatchObject({ judge: 'pixel/inspect', minWinRate: 0.5 });
    expect(json.evaluation.pairwise.winRate).toBeGreaterThan(0.5);
    expect(json.evaluation.prompts[0].pair).toMatchObject({
      winner: expect.any(String),
      pFinetune: expect.any(Number),
    });

    // A folder with a file that is not an image: exit 2, one line naming the file.
    const bad = await datasetFolder(3);
    dirs.push(bad);
    writeFileSync(join(bad, 'menu.png'), 'not really a png');
    const refused = await runCli(env, [
      'finetune',
      'datasets',
      'create',
      bad,
      '--name',
      'bad',
      '--category',
      'bakery',
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^pixel: menu\.png is not an image sharp can read .*\[images\.menu\.png\] \(invalid_argument\)\n$/,
    );

    // A LoRA trained elsewhere: registered with --backend import; without --lora, refused naming the field.
    const importStart = (...extra: string[]) =>
      runCli(env, [
        'finetune',
        'start',
        '--dataset',
        'ube-cakes',
        '--backend',
        'import',
        '--base',
        'comfyui/sdxl',
        '--trigger',
        'TOK',
        ...extra,
      ]);
    const noLora = await importStart();
    expect(noLora.code).toBe(2);
    expect(noLora.stderr).toMatch(/needs the LoRA to register.*\[lora\] \(invalid_argument\)/);
    const imported = await importStart('--name', 'ube-lora', '--lora', 'ube_cake_v3.safetensors', '--json');
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout).finetune).toMatchObject({
      name: 'ube-lora',
      backend: 'import',
      state: 'queued',
      params: { lora: 'ube_cake_v3.safetensors' },
    });
  }, 400_000);
});
