import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { DatasetRepo } from '../../catalog/datasets.ts';
import { formatOf, parseDataset } from '../../datasets/parse.ts';
import { invalidArgument, PixelError } from '../../protocol/errors.ts';
import { LOCAL_TEAM } from '../../server/auth.ts';
import { failWith, printJson } from '../output.ts';
import { withPlatform } from '../platform.ts';

const MAX_FILE_BYTES = 200 * 1024 * 1024;

/** `pixel datasets import | list | show`: items (variables, product category, external id) for experiments and runs. */
export function registerDatasets(program: Command): void {
  const datasets = program
    .command('datasets')
    .description('datasets of items for experiments and production runs');

  datasets
    .command('import <file>')
    .description(
      'import a CSV or JSONL file; every bad row is reported with its line and reason, good rows kept',
    )
    .requiredOption('--name <name>', 'the dataset name (lowercase letters, digits, . _ -)')
    .option('--team <team>', 'the team that owns it', LOCAL_TEAM)
    .option('--format <format>', 'csv or jsonl (default: from the file name)')
    .option('--json', 'machine-readable output')
    .action(async (file: string, flags: { name: string; team: string; format?: string; json?: boolean }) => {
      try {
        const format = flags.format ?? formatOf(file);
        if (format !== 'csv' && format !== 'jsonl') {
          throw invalidArgument(
            'format',
            'give --format csv|jsonl (the file name ends in neither .csv nor .jsonl)',
          );
        }
        let text: string;
        try {
          const bytes = readFileSync(file);
          if (bytes.byteLength > MAX_FILE_BYTES)
            throw invalidArgument('file', `is larger than ${MAX_FILE_BYTES} bytes`);
          text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        } catch (error) {
          if (PixelError.isInstance(error)) throw error;
          throw invalidArgument('file', `cannot read ${file} as UTF-8 text: ${(error as Error).message}`);
        }
        const parsed = parseDataset(text, format);
        const record = await withPlatform((platform) =>
          new DatasetRepo(platform.db).create({
            team: flags.team,
            name: flags.name,
            source: basename(file),
            parsed,
          }),
        );
        if (flags.json) {
          printJson({ dataset: record, rejected: parsed.rejected });
          return;
        }
        for (const row of parsed.rejected)
          process.stderr.write(`pixel: ${file}:${row.line}: ${row.reason}\n`);
        console.log(
          `imported ${record.itemCount} items as ${record.name} (${record.id}); ${record.rejectedCount} bad rows skipped`,
        );
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });

  datasets
    .command('list')
    .description('list datasets')
    .option('--team <team>', 'only this team')
    .option('--json', 'machine-readable output')
    .action(async (flags: { team?: string; json?: boolean }) => {
      try {
        const list = await withPlatform((platform) => new DatasetRepo(platform.db).list(flags.team));
        if (flags.json) {
          printJson({ datasets: list });
          return;
        }
        for (const d of list) {
          console.log(
            `${d.id}  ${d.name.padEnd(24)}  ${d.team.padEnd(12)}  ${String(d.itemCount).padStart(7)} items  ${d.rejectedCount} rejected  ${d.createdAt.toISOString()}`,
          );
        }
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });

  datasets
    .command('show <name>')
    .description('a dataset and its first items')
    .option('--team <team>', 'the team that owns it')
    .option('--items <n>', 'how many items to show', '10')
    .option('--json', 'machine-readable output')
    .action(async (name: string, flags: { team?: string; items: string; json?: boolean }) => {
      try {
        const limit = Number(flags.items);
        if (!Number.isInteger(limit) || limit < 0) throw invalidArgument('items', 'must be a whole number');
        const { dataset, items } = await withPlatform(async (platform) => {
          const repo = new DatasetRepo(platform.db);
          const dataset = await repo.get(name, flags.team);
          return { dataset, items: await repo.items(dataset.id, { limit }) };
        });
        if (flags.json) {
          printJson({ dataset, items });
          return;
        }
        console.log(
          `${dataset.name} (${dataset.id}), team ${dataset.team}, from ${dataset.source} (${dataset.format})`,
        );
        console.log(`${dataset.itemCount} items, ${dataset.rejectedCount} bad rows rejected at import`);
        for (const item of items) {
          const vars = Object.entries(item.vars)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(' ');
          console.log(
            `  #${item.idx}  line ${item.line}  ${item.externalId ?? '-'}  ${item.category ?? '-'}  ${vars}`,
          );
        }
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });
}
