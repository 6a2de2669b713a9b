import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ApplicationResolver } from '../../apps/apply.ts';
import { type GenerateOutcome, generate } from '../../generate/generate.ts';
import { composePlatform, type Platform } from '../../platform/compose.ts';
import { platformConfigFromEnv } from '../../platform/config.ts';
import { composeModels } from '../../platform/models.ts';
import { LOCAL_TEAM } from '../../server/auth.ts';
import { failWith, printJson, progressLine } from '../output.ts';
import { formatReport } from '../report-format.ts';
import { addRequestFlags, type RequestFlags, requestFromFlags } from '../request-flags.ts';

const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' };

export function registerGenerate(program: Command): void {
  addRequestFlags(program.command('generate'))
    .description('generate images and write them to a folder')
    .option('-o, --out <dir>', 'folder for the images', '.')
    .action(async (prompt: string | undefined, flags: RequestFlags & { out: string }) => {
      const json = Boolean(flags.json);
      const progress = progressLine(!json);
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      let platform: Platform | undefined;
      try {
        const models = composeModels({ env: process.env });
        // Applications live in the catalogue DB (file defaults + edited versions): open it only when asked.
        let applications: ApplicationResolver | undefined;
        if (flags.app !== undefined) {
          platform = await composePlatform(platformConfigFromEnv(process.env), {
            env: process.env,
            catalog: models.catalog,
            adapters: models.adapters,
          });
          applications = platform.applications.resolver();
        }
        const { catalog, defaultModel } = models;
        const outcome = await generate(
          requestFromFlags(prompt, flags),
          { catalog, adapter: models.adapter, defaultModel, applications },
          {
            team: LOCAL_TEAM,
            signal: controller.signal,
            onProgress: (event) => {
              if (event.stage === 'generating') {
                const p = event.provider;
                const detail = p
                  ? ` ${p.status}${p.fraction !== undefined ? ` ${Math.round(p.fraction * 100)}%` : ''}`
                  : '';
                progress(`generating on ${event.route}: call ${event.call}/${event.calls}${detail}`);
              } else if (event.stage === 'post-processing') {
                progress(`post-processing ${event.done}/${event.total}`);
              }
            },
          },
        );
        progress('');
        const files = await writeImages(outcome, flags.out);
        if (json) {
          printJson({
            model: outcome.route,
            requested: outcome.translation.requestedModel,
            seed: outcome.translation.request.seed,
            images: outcome.images.map((image, i) => ({
              path: files[i],
              mediaType: image.mediaType,
              width: image.width,
              height: image.height,
              seed: image.seed,
              native: image.native,
              operations: image.operations,
            })),
            report: outcome.translation.report,
            notes: outcome.notes,
            costEstimateUsd: outcome.translation.costEstimateUsd,
            latencyMs: Math.round(outcome.latencyMs),
          });
        } else {
          printHuman(outcome, files);
        }
      } catch (error) {
        progress('');
        await platform?.close().catch(() => {});
        failWith(error, json);
      }
      // Every path closes what it opened.
      await platform?.close();
    });
}

function printHuman(outcome: GenerateOutcome, files: string[]): void {
  for (const [i, image] of outcome.images.entries()) {
    console.log(
      `${files[i]}  ${image.width}x${image.height} ${image.mediaType}${image.seed !== undefined ? ` seed ${image.seed}` : ''}`,
    );
  }
  console.log(`model ${outcome.route} in ${Math.round(outcome.latencyMs)} ms`);
  for (const note of outcome.notes) console.log(`note: ${note}`);
  console.log('report');
  console.log(formatReport(outcome.translation.report));
}

async function writeImages(outcome: GenerateOutcome, dir: string): Promise<string[]> {
  const folder = resolve(dir);
  await mkdir(folder, { recursive: true });
  const slug = outcome.route.replace(/[^A-Za-z0-9._-]+/g, '_');
  const stamp = Date.now().toString(36);
  const files: string[] = [];
  for (const image of outcome.images) {
    const name = `${slug}-${image.seed ?? 'noseed'}-${stamp}-${image.index}.${EXTENSIONS[image.mediaType] ?? 'bin'}`;
    const path = join(folder, name);
    await writeFile(path, image.bytes);
    files.push(path);
  }
  return files;
}
