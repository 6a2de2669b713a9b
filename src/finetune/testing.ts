import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { startBoss } from '../jobs/boss.ts';
import type { Platform } from '../platform/compose.ts';
import { startFinetuneJobs } from './worker.ts';

/**
 * A synthetic product photo for dataset tests: a subject of `colour` on a plain `background`, its shape,
 * place and size varied by `variant` so different variants are different pictures (not near-duplicates).
 */
export async function productPhoto(
  options: {
    colour?: string;
    background?: string;
    variant?: number;
    size?: number;
    format?: 'png' | 'jpeg';
  } = {},
): Promise<Uint8Array> {
  const size = options.size ?? 320;
  const v = options.variant ?? 0;
  const colour = options.colour ?? '#7b3fa0';
  const background = options.background ?? '#dcdcdc';
  // A deterministic scatter per variant, so no two variants line up.
  const r = (k: number) => {
    const x = Math.sin((v + 1) * 12.9898 + (k + 1) * 78.233) * 43758.5453;
    return x - Math.floor(x);
  };
  const cx = size * (0.3 + 0.4 * r(0));
  const cy = size * (0.3 + 0.4 * r(1));
  const rx = size * (0.14 + 0.14 * r(2));
  const ry = rx / (1.2 + 0.4 * r(3));
  const accent = `<rect x="${size * (0.05 + 0.75 * r(4))}" y="${size * (0.05 + 0.75 * r(5))}" width="${size * 0.14}" height="${size * 0.11}" fill="${colour}"/>`;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">` +
    `<rect width="${size}" height="${size}" fill="${background}"/>` +
    `<ellipse cx="${cx}" cy="${cy}" rx="${rx}" ry="${ry}" fill="${colour}"/>${accent}</svg>`;
  const image = sharp(Buffer.from(svg), { density: 72 });
  const out = options.format === 'jpeg' ? image.jpeg({ quality: 92 }) : image.png();
  return new Uint8Array(await out.toBuffer());
}

/** A folder of `count` distinct product photos `01.png`… with a caption file for the first. */
export async function datasetFolder(
  count: number,
  options: { colour?: string; background?: string } = {},
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'pixel-ftds-'));
  for (let i = 0; i < count; i++) {
    const name = String(i + 1).padStart(2, '0');
    writeFileSync(join(dir, `${name}.png`), await productPhoto({ ...options, variant: i }));
  }
  writeFileSync(join(dir, '01.txt'), 'a ube cake on a grey counter');
  return dir;
}

/**
 * The fine-tune queue and a worker on a platform's database (pg-boss as the job system starts it), for
 * tests: `steps` lists every step's job id in order; `stop` stops the worker and pg-boss.
 */
export async function startTestQueue(
  platform: Platform,
  options: { onStep?: (finetuneId: string) => void | Promise<void> } = {},
): Promise<{ steps: string[]; stop(): Promise<void> }> {
  const boss = await startBoss({ db: platform.db, superviseSeconds: 1 });
  const steps: string[] = [];
  const jobs = await startFinetuneJobs({
    boss,
    service: platform.finetunes.service,
    worker: true,
    pollMs: 100,
    onStep: async (id) => {
      steps.push(id);
      await options.onStep?.(id);
    },
  });
  let stopped = false;
  return {
    steps,
    async stop() {
      if (stopped) return;
      stopped = true;
      await jobs.stop(10_000);
      await boss.stop({ graceful: false, close: true, timeout: 5_000 }).catch(() => {});
    },
  };
}
