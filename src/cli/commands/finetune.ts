import type { Command } from 'commander';
import type { FinetuneDataset } from '../../finetune/datasets.ts';
import { readDatasetFolder } from '../../finetune/folder.ts';
import { type Finetune, finetuneModelId } from '../../finetune/types.ts';
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
  if (job.promoted) parts.push(`  promoted: serves ${finetuneModelId(job.name)}`);
  return parts.join('\n');
}

const describeDataset = (d: FinetuneDataset) =>
  `${d.name} (${d.id}): ${d.images.length} images, category ${d.category}, from ${d.source}`;

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
              });
            }
            return service.createFromFiles({
              team: flags.team,
              name: flags.name,
              category: flags.category,
              source: `folder:${dir}`,
              files: await readDatasetFolder(dir!),
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
    .requiredOption('--backend <backend>', 'sketch (offline placeholder), replicate, fal or self-hosted')
    .requiredOption('--base <model>', 'the base model (pixel/sketch for the sketch backend)')
    .requiredOption('--trigger <token>', 'the rare token that names the product (TOK)')
    .option('--class <noun>', 'the class noun after the token (default: the dataset category)')
    .option('--name <name>', 'served as ft/<name> (default: the dataset name)')
    .option('--steps <n>', 'training steps', (v) => Number(v))
    .option('--wait', 'run the job here until it finishes (otherwise a server or `pixel finetune run` does)')
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
        wait?: boolean;
        team: string;
        json?: boolean;
      }) => {
        try {
          const job = await withPlatform(async (platform) => {
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
            });
            if (!flags.wait) return started;
            await service.runUntilIdle({
              maxTicks: 10_000,
              everyMs: started.backend === 'sketch' ? 0 : 5000,
            });
            return service.get(started.id);
          });
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
            console.log(
              `    ${row.prompt}: fine-tune ${pct(row.finetune)}, base ${pct(row.base)} (${row.winner})`,
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
        const job = await withPlatform(async (platform) => {
          await platform.finetunes.service.cancel(id, flags.team);
          // The next look cancels it at the backend; do it now rather than wait for a runner.
          const current = await platform.finetunes.service.get(id, flags.team);
          return (await platform.finetunes.service.step(current)) ?? current;
        });
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
    .description('move every unfinished job on until none is left (what the server does in the background)')
    .option('--every <ms>', 'wait between looks', (v) => Number(v), 5000)
    .option('--json', 'machine-readable output')
    .action(async (flags: { every: number; json?: boolean }) => {
      try {
        const open = await withPlatform((platform) =>
          platform.finetunes.service.runUntilIdle({ maxTicks: 100_000, everyMs: flags.every }),
        );
        if (flags.json) printJson({ unfinished: open });
        else console.log(open === 0 ? 'no unfinished fine-tune jobs' : `${open} job(s) still unfinished`);
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });
}
