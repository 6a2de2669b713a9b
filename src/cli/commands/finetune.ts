import type { Command } from 'commander';
import type { FinetuneDataset } from '../../finetune/datasets.ts';
import { readDatasetFolder } from '../../finetune/folder.ts';
import type { FinetuneService } from '../../finetune/service.ts';
import { type Finetune, finetuneModelId, TERMINAL_STATES } from '../../finetune/types.ts';
import { startJobSystem } from '../../jobs/system.ts';
import type { Platform } from '../../platform/compose.ts';
import { invalidArgument } from '../../protocol/errors.ts';
import { LOCAL_TEAM } from '../../server/auth.ts';
import { failWith, printJson } from '../output.ts';
import { withPlatform } from '../platform.ts';

const pct = (x: number) => `${Math.round(x * 100)}%`;

function describe(job: Finetune): string {
  const served = job.promoted ? finetuneModelId(job.name) : finetuneModelId(job.name, job.version);
  const parts = [
    `${job.id}  ${served}  ${job.state}${job.state === 'training' ? ` ${pct(job.progress)}` : ''}`,
    `  base ${job.baseModel} on ${job.backend}; trigger "${job.trigger} ${job.classNoun}"; category ${job.category}; steps ${job.params.steps}`,
  ];
  if (job.cancelRequested && job.state !== 'cancelled') parts.push('  cancel requested');
  if (job.error) parts.push(`  error: ${job.error}`);
  if (job.evaluation) parts.push(`  evaluation (${job.evaluation.judge}): ${job.evaluation.verdict}`);
  const pairwise = job.evaluation?.pairwise;
  if (pairwise) {
    parts.push(
      `  pairwise (${pairwise.judge}): win rate ${pct(pairwise.winRate)} (needs ${pct(pairwise.minWinRate)}); ${pairwise.wins.finetune} won, ${pairwise.wins.tie} tied, ${pairwise.wins.base} lost`,
    );
  }
  if (job.promoted) parts.push(`  promoted: serves ${finetuneModelId(job.name)}`);
  return parts.join('\n');
}

const describeDataset = (d: FinetuneDataset) => {
  const byModel = d.images.filter((i) => i.captionBy).length;
  const captioned = d.images.filter((i) => i.caption).length;
  return `${d.name} (${d.id}): ${d.images.length} images (${captioned} captioned${byModel ? `, ${byModel} by ${d.images.find((i) => i.captionBy)!.captionBy}` : ''}), category ${d.category}, from ${d.source}`;
};

/**
 * `pixel finetune datasets create | list`, `start`, `list`, `status`, `cancel`, `promote`, `run`: fine-tuned
 * models per product category.
 */
export function registerFinetune(program: Command): void {
  const finetune = program
    .command('finetune')
    .description('fine-tuned models per product category: datasets, training jobs, evaluation, promotion');

  const datasets = finetune.command('datasets').description('training datasets (3–30 product images)');
  datasets
    .command('create [dir]')
    .description(
      'a dataset from a folder of PNG/JPEG/WebP images (NAME.txt beside NAME.png is its caption), or from the catalogue',
    )
    .requiredOption('--name <name>', 'dataset name (lowercase letters, digits, . _ -)')
    .requiredOption('--category <category>', 'the product category it trains (beef, produce, …)')
    .option('--from-catalog <query>', "the team's accepted images whose prompt contains this text")
    .option('--app <app>', 'with --from-catalog: only images of this application')
    .option(
      '--captions <mode>',
      'vlm: caption every image that has no caption file with a vision model (PIXEL_FINETUNE_CAPTION_MODEL, else PIXEL_FINETUNE_JUDGE; offline a pixel/inspect stand-in)',
    )
    .option('--team <team>', 'the team that owns it', LOCAL_TEAM)
    .option('--json', 'machine-readable output')
    .action(
      async (
        dir: string | undefined,
        flags: {
          name: string;
          category: string;
          fromCatalog?: string;
          app?: string;
          captions?: string;
          team: string;
          json?: boolean;
        },
      ) => {
        try {
          if ((dir === undefined) === (flags.fromCatalog === undefined)) {
            throw invalidArgument('dir', 'give either a folder DIR or --from-catalog QUERY');
          }
          const dataset = await withPlatform(async (platform) => {
            const service = platform.finetunes.datasets;
            if (flags.fromCatalog !== undefined) {
              return service.createFromCatalog({
                team: flags.team,
                name: flags.name,
                category: flags.category,
                query: flags.fromCatalog,
                ...(flags.app !== undefined && { application: flags.app }),
                ...(flags.captions !== undefined && { captions: flags.captions }),
              });
            }
            return service.createFromFiles({
              team: flags.team,
              name: flags.name,
              category: flags.category,
              source: `folder:${dir}`,
              files: await readDatasetFolder(dir!),
              ...(flags.captions !== undefined && { captions: flags.captions }),
            });
          });
          if (flags.json) printJson({ dataset });
          else console.log(`created ${describeDataset(dataset)}`);
        } catch (error) {
          failWith(error, Boolean(flags.json));
        }
      },
    );
  datasets
    .command('list')
    .description('list training datasets')
    .option('--team <team>', 'the team', LOCAL_TEAM)
    .option('--json', 'machine-readable output')
    .action(async (flags: { team: string; json?: boolean }) => {
      try {
        const list = await withPlatform((platform) => platform.finetunes.datasets.list(flags.team));
        if (flags.json) printJson({ datasets: list });
        else if (list.length === 0) console.log('no training datasets');
        else for (const d of list) console.log(describeDataset(d));
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });

  finetune
    .command('start')
    .description(
      'queue a training job; a succeeded job is served as ft/<name>/vN, and as ft/<name> once promoted',
    )
    .requiredOption('--dataset <name>', 'the training dataset')
    .requiredOption(
      '--backend <backend>',
      'sketch (offline placeholder), replicate, fal, self-hosted, or import (a LoRA trained elsewhere: --lora)',
    )
    .requiredOption('--base <model>', 'the base model (pixel/sketch for the sketch backend)')
    .requiredOption('--trigger <token>', 'the rare token that names the product (TOK)')
    .option('--class <noun>', 'the class noun after the token (default: the dataset category)')
    .option('--name <name>', 'served as ft/<name> (default: the dataset name)')
    .option('--steps <n>', 'training steps', (v) => Number(v))
    .option(
      '--lora <name-or-url>',
      'with --backend import: the LoRA file name on the a1111/comfyui host, or its safetensors URL on fal',
    )
    .option(
      '--wait',
      'wait until it finishes (on embedded PGlite this process works it; otherwise a server or `pixel worker` does)',
    )
    .option('--team <team>', 'the team', LOCAL_TEAM)
    .option('--json', 'machine-readable output')
    .action(
      async (flags: {
        dataset: string;
        backend: string;
        base: string;
        trigger: string;
        class?: string;
        name?: string;
        steps?: number;
        lora?: string;
        wait?: boolean;
        team: string;
        json?: boolean;
      }) => {
        try {
          const job = await withPlatform((platform) =>
            // The job goes on the queue; with --wait on embedded PGlite this process also works it.
            withJobs(platform, Boolean(flags.wait) && platform.db.kind === 'pglite', async () => {
              const service = platform.finetunes.service;
              const started = await service.start({
                team: flags.team,
                dataset: flags.dataset,
                backend: flags.backend,
                base: flags.base,
                trigger: flags.trigger,
                ...(flags.class !== undefined && { classNoun: flags.class }),
                ...(flags.name !== undefined && { name: flags.name }),
                ...(flags.steps !== undefined && { steps: flags.steps }),
                ...(flags.lora !== undefined && { lora: flags.lora }),
              });
              if (!flags.wait) return started;
              if (platform.db.kind !== 'pglite') {
                process.stderr.write(
                  'pixel: waiting for a server or `pixel worker` on this database to run it (Ctrl-C stops waiting, not the job)\n',
                );
              }
              await untilFinished(service, [started.id]);
              return service.get(started.id);
            }),
          );
          if (flags.json) printJson({ finetune: job });
          else console.log(describe(job));
        } catch (error) {
          failWith(error, Boolean(flags.json));
        }
      },
    );

  finetune
    .command('list')
    .description('fine-tune jobs, newest first')
    .option('--team <team>', 'the team', LOCAL_TEAM)
    .option('--json', 'machine-readable output')
    .action(async (flags: { team: string; json?: boolean }) => {
      try {
        const list = await withPlatform((platform) => platform.finetunes.service.list(flags.team));
        if (flags.json) printJson({ finetunes: list });
        else if (list.length === 0) console.log('no fine-tune jobs');
        else for (const job of list) console.log(describe(job));
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });

  const byId = (name: string, description: string) =>
    finetune
      .command(`${name} <id>`)
      .description(description)
      .option('--team <team>', 'the team', LOCAL_TEAM)
      .option('--json', 'machine-readable output');

  byId('status', 'one job: state, progress, evaluation report').action(
    async (id: string, flags: { team: string; json?: boolean }) => {
      try {
        const job = await withPlatform((platform) => platform.finetunes.service.get(id, flags.team));
        if (flags.json) printJson({ finetune: job });
        else {
          console.log(describe(job));
          for (const row of job.evaluation?.prompts ?? []) {
            const pair = row.pair
              ? `; pairwise ${row.pair.winner}, P(fine-tune better) ${row.pair.pFinetune.toFixed(2)}`
              : '';
            console.log(
              `    ${row.prompt}: fine-tune ${pct(row.finetune)}, base ${pct(row.base)} (${row.winner})${pair}`,
            );
          }
        }
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    },
  );
  byId('cancel', 'stop a queued or running job').action(
    async (id: string, flags: { team: string; json?: boolean }) => {
      try {
        // Cancelled here and now (at the backend too); the job's waiting queue step then finds it done.
        const job = await withPlatform((platform) => platform.finetunes.service.cancel(id, flags.team));
        if (flags.json) printJson({ finetune: job });
        else console.log(describe(job));
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    },
  );
  byId('promote', 'serve this succeeded version as ft/<name>')
    .option('--force', 'promote even though it did not pass its evaluation')
    .action(async (id: string, flags: { team: string; force?: boolean; json?: boolean }) => {
      try {
        const job = await withPlatform((platform) =>
          platform.finetunes.service.promote(id, { team: flags.team, force: Boolean(flags.force) }),
        );
        if (flags.json) printJson({ finetune: job });
        else console.log(describe(job));
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });

  finetune
    .command('run')
    .description(
      'work the fine-tune queue in this process until no job is unfinished (a server or `pixel worker` does it in the background)',
    )
    .option('--json', 'machine-readable output')
    .action(async (flags: { json?: boolean }) => {
      try {
        const finished = await withPlatform((platform) =>
          withJobs(platform, true, async () => {
            const open = await platform.finetunes.service.repo.unfinished();
            await untilFinished(
              platform.finetunes.service,
              open.map((job) => job.id),
            );
            return Promise.all(open.map((job) => platform.finetunes.service.get(job.id)));
          }),
        );
        if (flags.json) printJson({ finetunes: finished });
        else if (finished.length === 0) console.log('no unfinished fine-tune jobs');
        else for (const job of finished) console.log(describe(job));
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });
}

/** Runs `fn` with the job system (the fine-tune queue) started on the platform, a worker in it if asked. */
async function withJobs<T>(platform: Platform, worker: boolean, fn: () => Promise<T>): Promise<T> {
  const jobs = await startJobSystem(platform, { worker });
  try {
    return await fn();
  } finally {
    await jobs.stop(10_000);
  }
}

/** Waits (watching the table every 500 ms) until every job named is succeeded, failed or cancelled. */
/**
 * Waits until every job is finished, showing each one's state and progress on stderr: a bar redrawn in place
 * on a terminal, otherwise a line whenever a job's state changes.
 */
async function untilFinished(service: FinetuneService, ids: readonly string[]): Promise<void> {
  const tty = process.stderr.isTTY === true;
  const shown = new Map<string, string>();
  for (;;) {
    const jobs = await Promise.all(ids.map((id) => service.get(id)));
    const line = jobs.map(jobProgress).join('  ');
    if (tty) process.stderr.write(`\r\x1b[2K${line}`);
    else {
      for (const job of jobs) {
        if (shown.get(job.id) !== job.state) process.stderr.write(`${jobProgress(job)}\n`);
        shown.set(job.id, job.state);
      }
    }
    if (jobs.every((job) => TERMINAL_STATES.has(job.state))) {
      if (tty) process.stderr.write('\n');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** `ft/<name>/v<N> [######....] 60% training`. */
export function jobProgress(job: Finetune, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, job.progress)) * width);
  return `${finetuneModelId(job.name, job.version)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(job.progress * 100)}% ${job.state}`;
}
