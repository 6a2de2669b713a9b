import type { Command } from 'commander';
import { startJobSystem } from '../../jobs/system.ts';
import { composePlatform } from '../../platform/compose.ts';
import { platformConfigFromEnv } from '../../platform/config.ts';
import { failWith } from '../output.ts';

/**
 * `pixel worker`: a stateless batch worker. It takes cell jobs from the catalogue's PostgreSQL (pg-boss), runs
 * them within the providers' shared limits, and stores images in the bucket; any number of them can run on any
 * number of machines. SIGTERM/SIGINT: stop taking jobs, let the ones in flight finish, exit.
 */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run a batch worker (production profile: DATABASE_URL and the bucket)')
    .option('--concurrency <n>', 'cells at once in this process (default PIXEL_WORKER_CONCURRENCY or 16)')
    .action(async (flags: { concurrency?: string }) => {
      try {
        const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
        const platform = await composePlatform(platformConfigFromEnv(process.env), { env: process.env });
        const jobs = await startJobSystem(platform, {
          worker: true,
          ...(concurrency !== undefined && { workerOptions: { concurrency } }),
        });
        process.stderr.write(`pixel: worker ${jobs.worker?.owner} taking jobs (${platform.db.kind})\n`);
        // Ready line for supervisors and tests.
        process.stdout.write('ready\n');
        await new Promise<void>((resolve) => {
          process.once('SIGTERM', resolve);
          process.once('SIGINT', resolve);
        });
        await jobs.stop(30_000);
        await platform.close();
        process.exit(0);
      } catch (error) {
        failWith(error, false);
      }
    });
}
