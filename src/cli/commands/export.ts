import type { Command } from 'commander';
import { exportToSnowflake } from '../../catalog/export/snowflake.ts';
import { openPlatformDatabase, openPlatformStore } from '../../platform/open.ts';
import { invalidArgument } from '../../protocol/errors.ts';
import { serverConfigFromEnv } from '../../server/config.ts';
import { exportSinkFor } from '../../server/export-sink.ts';
import { failWith, printJson } from '../output.ts';

/** `pixel export snowflake`: image records as NDJSON batches in the blob store's bucket/folder, incrementally. */
export function registerExport(program: Command): void {
  const exp = program.command('export').description('export the image catalogue to other systems');
  exp
    .command('snowflake')
    .description(
      'land image changes (inserts, updates, deletes, each with its version) as NDJSON batches, with the table DDL, COPY INTO, MERGE and Snowpipe definitions, under a prefix',
    )
    .requiredOption('--prefix <prefix>', 'key prefix in the bucket / data folder, e.g. exports/snowflake')
    .option('--batch-size <n>', 'rows per batch file', '10000')
    .option('--max-batches <n>', 'stop after this many batches (default: until caught up)')
    .option('--json', 'machine-readable output')
    .action(async (flags: { prefix: string; batchSize: string; maxBatches?: string; json?: boolean }) => {
      try {
        const int = (value: string, field: string) => {
          if (!/^\d+$/.test(value)) throw invalidArgument(field, `must be a whole number, not "${value}"`);
          return Number(value);
        };
        const batchSize = int(flags.batchSize, 'batch-size');
        const maxBatches = flags.maxBatches === undefined ? undefined : int(flags.maxBatches, 'max-batches');
        const config = serverConfigFromEnv(process.env);
        const db = await openPlatformDatabase(config);
        const store = openPlatformStore(config, process.env, `http://${config.host}:${config.port}`);
        try {
          const result = await exportToSnowflake({
            db,
            sink: exportSinkFor(store),
            prefix: flags.prefix,
            batchSize,
            format: 'ndjson',
            ...(maxBatches !== undefined && { maxBatches }),
          });
          if (flags.json) printJson(result);
          else {
            for (const key of result.keys) console.log(key);
            process.stderr.write(
              `pixel: exported ${result.rows} changes in ${result.batches} batches${result.cursor ? ` (up to change ${result.cursor.xid}:${result.cursor.seq})` : ''}\n`,
            );
          }
        } finally {
          await store.close();
          await db.close();
        }
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });
}
