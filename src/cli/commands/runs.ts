import type { Command } from 'commander';
import type { Candidate } from '../../catalog/batch-runs.ts';
import type { Progress } from '../../jobs/batches.ts';
import { type JobSystem, startJobSystem } from '../../jobs/system.ts';
import type { Platform } from '../../platform/compose.ts';
import { invalidArgument } from '../../protocol/errors.ts';
import { LOCAL_TEAM } from '../../server/auth.ts';
import type { Caller } from '../../server/image-service.ts';
import { failWith, printJson } from '../output.ts';
import { withPlatform } from '../platform.ts';

/** The CLI acts on the catalogue directly, as an admin of the team it names. */
export const cliCaller = (team: string | undefined): Caller => ({ team: team ?? LOCAL_TEAM, role: 'admin' });

/**
 * Runs `fn` with the batch machinery. `work`: also run a worker here while `fn` runs (on embedded PGlite this
 * process owns the database, so it must do the work itself; on PostgreSQL `pixel worker` processes do it).
 */
export async function withBatches<T>(
  work: boolean,
  fn: (jobs: JobSystem, platform: Platform) => Promise<T>,
): Promise<T> {
  return withPlatform(async (platform) => {
    const jobs = await startJobSystem(platform, { worker: work && platform.db.kind === 'pglite' });
    try {
      return await fn(jobs, platform);
    } finally {
      await jobs.stop(5_000);
    }
  });
}

/** `MODEL key=value …`: a model id and unified-parameter overrides (numbers and true/false are typed). */
export function parseCandidate(text: string, field = 'candidate'): Candidate {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const model = words.shift();
  if (!model) throw invalidArgument(field, 'a candidate is "MODEL [key=value …]"');
  const overrides: Record<string, unknown> = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) throw invalidArgument(field, `"${word}" is not key=value`);
    const key = word.slice(0, eq);
    const raw = word.slice(eq + 1);
    overrides[key] =
      raw === 'true' ? true : raw === 'false' ? false : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  }
  return { model, overrides };
}

export function progressBar(p: Progress, width = 30): string {
  const finished = p.done + p.failed + p.skipped;
  const filled = p.total === 0 ? width : Math.round((finished / p.total) * width);
  const eta = p.etaSec === null ? '–' : `${p.etaSec}s`;
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${finished}/${p.total}  done ${p.done}  failed ${p.failed}` +
    `  left ${p.remaining}  ${p.ratePerSec}/s  ETA ${eta}  $${p.costUsd.toFixed(4)}  ${p.state}`
  );
}

/** Follows a run until it is no longer running (bounded by `maxPolls`), drawing the bar on a terminal. */
export async function watch(
  jobs: JobSystem,
  id: string,
  caller: Caller,
  options: { everyMs?: number; maxPolls?: number } = {},
): Promise<Progress> {
  const tty = process.stderr.isTTY === true;
  const everyMs = options.everyMs ?? 500;
  const maxPolls = options.maxPolls ?? 7 * 24 * 3600 * 2;
  let last = await jobs.batches.progress(id, caller);
  for (let i = 0; i < maxPolls && last.state === 'running'; i++) {
    if (tty) process.stderr.write(`\r\x1b[2K${progressBar(last)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    last = await jobs.batches.progress(id, caller);
  }
  if (tty) process.stderr.write(`\r\x1b[2K${progressBar(last)}\n`);
  return last;
}

export function printProgress(p: Progress, json: boolean): void {
  if (json) printJson(p);
  else console.log(`${p.runId}  ${progressBar(p)}${p.stopReason ? `  (${p.stopReason})` : ''}`);
}

function parseDeadline(text: string): number {
  const m = /^(\d+)(h|d)$/.exec(text.trim());
  if (!m) throw invalidArgument('deadline', `must be like 24h or 2d, got "${text}"`);
  return Number(m[1]) * (m[2] === 'h' ? 3_600_000 : 86_400_000);
}

/** `pixel runs start | status | pause | resume | cancel | list`. */
export function registerRuns(program: Command): void {
  const runs = program
    .command('runs')
    .description('production runs: an application and its model over a whole dataset');

  runs
    .command('start')
    .description('start a production run (resumable; one job per item)')
    .requiredOption('--dataset <name>', 'dataset name or id')
    .requiredOption('--app <app>', 'application')
    .requiredOption('--model <model>', 'model id or alias')
    .option('--set <key=value...>', 'parameter overrides for the model (repeatable)')
    .option('--budget <usd>', 'stop the run when it has spent this much')
    .option('--economy', "through the provider's batch API at half price (needs --deadline of 24h or more)")
    .option('--deadline <window>', 'economy window, e.g. 24h')
    .option('--team <team>', 'team the run belongs to')
    .option('--wait', 'follow the run to its end (on the embedded database this process also does the work)')
    .option('--json', 'machine-readable output')
    .action(
      async (flags: {
        dataset: string;
        app: string;
        model: string;
        set?: string[];
        budget?: string;
        economy?: boolean;
        deadline?: string;
        team?: string;
        wait?: boolean;
        json?: boolean;
      }) => {
        try {
          const candidate = parseCandidate([flags.model, ...(flags.set ?? [])].join(' '), 'model');
          const budgetUsd = flags.budget === undefined ? undefined : Number(flags.budget);
          if (budgetUsd !== undefined && !(budgetUsd > 0))
            throw invalidArgument('budget', 'must be a positive amount');
          const deadlineMs = flags.deadline === undefined ? undefined : parseDeadline(flags.deadline);
          const caller = cliCaller(flags.team);
          await withBatches(Boolean(flags.wait), async (jobs) => {
            const run = await jobs.batches.startRun(
              {
                dataset: flags.dataset,
                application: flags.app,
                candidate,
                ...(budgetUsd !== undefined && { budgetUsd }),
                ...(flags.economy && { economy: true }),
                ...(deadlineMs !== undefined && { deadlineMs }),
              },
              caller,
            );
            if (!flags.wait) {
              if (flags.json) printJson(run);
              else
                console.log(
                  `started ${run.id}: ${run.cellCount} items; \`pixel runs status ${run.id}\` follows it`,
                );
              return;
            }
            printProgress(await watch(jobs, run.id, caller), Boolean(flags.json));
          });
        } catch (error) {
          failWith(error, Boolean(flags.json));
        }
      },
    );

  runs
    .command('status <id>')
    .description('progress of a run or experiment: done, failed, remaining, rate, ETA, cost so far')
    .option('--watch', 'follow it to its end with a progress bar')
    .option('--json', 'machine-readable output')
    .action(async (id: string, flags: { watch?: boolean; json?: boolean }) => {
      try {
        const caller = cliCaller(undefined);
        await withBatches(Boolean(flags.watch), async (jobs) => {
          const p = flags.watch ? await watch(jobs, id, caller) : await jobs.batches.progress(id, caller);
          printProgress(p, Boolean(flags.json));
        });
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    runs
      .command(`${action} <id>`)
      .description(
        action === 'pause'
          ? 'pause a run: cells in flight finish, the rest wait'
          : action === 'resume'
            ? 'resume a paused or budget-stopped run (finished items are untouched)'
            : 'cancel a run: cells not started are skipped',
      )
      .option('--json', 'machine-readable output')
      .action(async (id: string, flags: { json?: boolean }) => {
        try {
          const caller = cliCaller(undefined);
          await withBatches(false, async (jobs) => {
            const run = await jobs.batches[action](id, caller);
            if (flags.json) printJson(run);
            else console.log(`${run.id} is ${run.state}`);
          });
        } catch (error) {
          failWith(error, Boolean(flags.json));
        }
      });
  }

  runs
    .command('failures <id>')
    .description("a run's failed items with their reasons (the dead letters)")
    .option('--json', 'machine-readable output')
    .action(async (id: string, flags: { json?: boolean }) => {
      try {
        await withBatches(false, async (jobs) => {
          const failed = await jobs.batches.failures(id, cliCaller(undefined));
          if (flags.json) {
            printJson({ failures: failed });
            return;
          }
          for (const f of failed) {
            console.log(
              `item ${f.item}  candidate ${f.candidate}  ${f.attempts} attempts  ${f.error?.code ?? ''} ${f.error?.reason ?? ''}: ${f.error?.message ?? ''}`,
            );
          }
          console.log(`${failed.length} failed`);
        });
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });

  runs
    .command('cells <id>')
    .description("a run's cells (item × candidate): state, images, cost, latency, judge verdict, error")
    .option('--state <state>', 'only cells in this state: pending, running, done, failed or skipped')
    .option('--candidate <n>', "only this candidate (its index in the run's candidates)")
    .option('--limit <n>', 'cells per page (1–1000)', '100')
    .option('--page <token>', "the previous page's next-page token")
    .option('--json', 'machine-readable output')
    .action(
      async (
        id: string,
        flags: { state?: string; candidate?: string; limit: string; page?: string; json?: boolean },
      ) => {
        try {
          const candidate = flags.candidate === undefined ? undefined : Number(flags.candidate);
          await withBatches(false, async (jobs) => {
            const page = await jobs.batches.listCells(id, cliCaller(undefined), {
              pageSize: Number(flags.limit),
              ...(flags.state !== undefined && { state: flags.state }),
              ...(candidate !== undefined && { candidate }),
              ...(flags.page !== undefined && { pageToken: flags.page }),
            });
            if (flags.json) {
              printJson(page);
              return;
            }
            for (const c of page.cells) {
              const item = c.externalId ?? c.vars.item ?? `#${c.item}`;
              const cost = c.costUsd === null ? '–' : `$${c.costUsd.toFixed(4)}`;
              const latency = c.latencyMs === null ? '–' : `${c.latencyMs}ms`;
              const judge = c.judgePass === null ? '' : c.judgePass ? '  judge pass' : '  judge fail';
              const error = c.error
                ? `  ${c.error.code}${c.error.reason ? ` ${c.error.reason}` : ''}: ${c.error.message}`
                : '';
              console.log(
                `item ${c.item} (${item})  candidate ${c.candidate} ${c.model}  ${c.state.padEnd(8)}  ${cost}  ${latency}  ${c.imageIds.join(',') || '–'}${judge}${error}`,
              );
            }
            console.log(
              `${page.cells.length} of ${page.total} cells${page.nextPageToken ? `; next page: --page ${page.nextPageToken}` : ''}`,
            );
          });
        } catch (error) {
          failWith(error, Boolean(flags.json));
        }
      },
    );

  runs
    .command('list')
    .description('runs and experiments, newest first')
    .option('--team <team>', 'only this team')
    .option('--json', 'machine-readable output')
    .action(async (flags: { team?: string; json?: boolean }) => {
      try {
        await withBatches(false, async (jobs) => {
          const list = await jobs.batches.runs.list({ ...(flags.team && { team: flags.team }) });
          if (flags.json) {
            printJson({ runs: list });
            return;
          }
          for (const r of list) {
            console.log(
              `${r.id}  ${r.kind.padEnd(10)}  ${r.state.padEnd(14)}  ${r.team.padEnd(10)}  ${r.application.padEnd(18)}  ${r.cellCount} cells  ${r.candidates.map((c) => c.model).join(', ')}`,
            );
          }
        });
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });
}
