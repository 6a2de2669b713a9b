import type { Command } from 'commander';
import { IdempotencyStore } from '../../catalog/idempotency.ts';
import { ImageRepo } from '../../catalog/images.ts';
import { sweepOrphanBlobs } from '../../catalog/sweeper.ts';
import { openPlatformDatabase, openPlatformStore } from '../../platform/open.ts';
import { invalidArgument } from '../../protocol/errors.ts';
import { serverConfigFromEnv } from '../../server/config.ts';
import { failWith, printJson } from '../output.ts';

/** `pixel sweep`: delete blobs no catalogue row references (older than the grace period), purge old idempotency records. */
export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description('remove orphan blobs (no catalogue row) older than the grace period')
    .option('--grace-ms <ms>', 'minimum blob age (default PIXEL_SWEEP_GRACE_MS or 1 hour)')
    .option('--json', 'machine-readable output')
    .action(async (flags: { graceMs?: string; json?: boolean }) => {
      try {
        const config = serverConfigFromEnv(process.env);
        if (flags.graceMs !== undefined && !/^\d+$/.test(flags.graceMs))
          throw invalidArgument('grace-ms', 'must be a whole number of milliseconds');
        const graceMs = flags.graceMs === undefined ? config.sweepGraceMs : Number(flags.graceMs);
        const db = await openPlatformDatabase(config);
        const store = openPlatformStore(config, process.env, `http://${config.host}:${config.port}`);
        try {
          const result = await sweepOrphanBlobs({ store, images: new ImageRepo(db), olderThanMs: graceMs });
          const purged = await new IdempotencyStore(db).purgeExpired();
          if (flags.json) printJson({ ...result, idempotencyPurged: purged });
          else
            console.log(
              `scanned ${result.scanned} blobs, deleted ${result.deleted} orphans, purged ${purged} expired idempotency records`,
            );
        } finally {
          await store.close();
          await db.close();
        }
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });
}
