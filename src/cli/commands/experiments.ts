import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Candidate, SampleSpec } from '../../catalog/batch-runs.ts';
import type { ExperimentReport } from '../../jobs/report.ts';
import { reportCsv } from '../../jobs/report.ts';
import { invalidArgument } from '../../protocol/errors.ts';
import { failWith, printJson } from '../output.ts';
import { cliCaller, parseCandidate, printProgress, watch, withBatches } from './runs.ts';

/** `pixel experiments run | report`: candidates compared on a sample of a dataset. */
export function registerExperiments(program: Command): void {
  const experiments = program
    .command('experiments')
    .description('compare candidate models on a sample of a dataset, then rank them');

  experiments
    .command('run')
    .description('start an experiment: sample × candidates × application, one job per cell')
    .requiredOption('--dataset <name>', 'dataset name or id')
    .requiredOption('--app <app>', 'application')
    .option('--models <ids>', 'comma-separated model ids (candidates without overrides)')
    .option('--candidate <spec...>', '"MODEL key=value …" (repeatable)')
    .option('--sample <n>', 'how many items (default: all)')
    .option('--seed <seed>', 'draw the sample at random with this seed (default: the first n)')
    .option('--gate', 'judge every image with the quality gate')
    .option('--team <team>', 'team the experiment belongs to')
    .option('--wait', 'follow it to its end, then print the report')
    .option('--json', 'machine-readable output')
    .action(
      async (flags: {
        dataset: string;
        app: string;
        models?: string;
        candidate?: string[];
        sample?: string;
        seed?: string;
        gate?: boolean;
        team?: string;
        wait?: boolean;
        json?: boolean;
      }) => {
        try {
          const candidates: Candidate[] = [
            ...(flags.models ?? '')
              .split(',')
              .map((m) => m.trim())
              .filter(Boolean)
              .map((model) => ({ model, overrides: {} })),
            ...(flags.candidate ?? []).map((c, i) => parseCandidate(c, `candidate[${i}]`)),
          ];
          if (candidates.length === 0)
            throw invalidArgument('models', 'give --models m1,m2 or --candidate "MODEL k=v"');
          let sample: SampleSpec = { mode: 'all' };
          if (flags.sample !== undefined) {
            const n = Number(flags.sample);
            if (!Number.isInteger(n) || n < 1) throw invalidArgument('sample', 'must be a whole number ≥ 1');
            sample =
              flags.seed === undefined
                ? { mode: 'first', n }
                : { mode: 'random', n, seed: Number(flags.seed) };
          }
          const caller = cliCaller(flags.team);
          await withBatches(Boolean(flags.wait), async (jobs) => {
            const run = await jobs.batches.startExperiment(
              {
                dataset: flags.dataset,
                application: flags.app,
                candidates,
                sample,
                gate: Boolean(flags.gate),
              },
              caller,
            );
            if (!flags.wait) {
              if (flags.json) printJson(run);
              else
                console.log(
                  `started ${run.id}: ${run.cellCount} cells; \`pixel experiments report ${run.id}\` when done`,
                );
              return;
            }
            const progress = await watch(jobs, run.id, caller);
            const report = await jobs.batches.report(run.id, caller);
            if (flags.json) printJson({ progress, report });
            else {
              printProgress(progress, false);
              printReport(report);
            }
          });
        } catch (error) {
          failWith(error, Boolean(flags.json));
        }
      },
    );

  experiments
    .command('report <id>')
    .description('rank the candidates: pass rate (with a 95% interval), approval, cost per accepted, latency')
    .option('--csv <file>', 'also write the table as CSV (- for stdout)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, flags: { csv?: string; json?: boolean }) => {
      try {
        await withBatches(false, async (jobs) => {
          const report = await jobs.batches.report(id, cliCaller(undefined));
          if (flags.csv === '-') {
            process.stdout.write(reportCsv(report));
            return;
          }
          if (flags.csv) writeFileSync(flags.csv, reportCsv(report));
          if (flags.json) printJson(report);
          else printReport(report);
        });
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });
}

function printReport(report: ExperimentReport): void {
  const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
  console.log(
    `experiment ${report.runId} (${report.state}), application ${report.application}, ${report.items} items`,
  );
  console.log(
    'rank  candidate                                  n  accepted  pass    95% CI          approval  pairwise      $/accepted  p50 ms  p95 ms',
  );
  for (const c of report.candidates) {
    const name = `${c.model}${Object.entries(c.overrides)
      .map(([k, v]) => ` ${k}=${String(v)}`)
      .join('')}`;
    const ci = c.passRateCi ? `${pct(c.passRateCi[0])}–${pct(c.passRateCi[1])}` : '–';
    console.log(
      `${String(c.rank).padEnd(4)}  ${name.slice(0, 40).padEnd(40)}  ${String(c.n).padStart(3)}  ${String(c.accepted).padStart(8)}  ${pct(c.passRate).padEnd(6)}  ${ci.padEnd(14)}  ${pct(c.humanApproval).padEnd(8)}  ${(c.pairwiseComparisons > 0 ? `${pct(c.pairwisePreference)} (${c.pairwiseComparisons})` : '–').padEnd(12)}  ${(c.costPerAcceptedUsd === null ? '–' : c.costPerAcceptedUsd.toFixed(4)).padStart(10)}  ${String(c.latencyP50Ms ?? '–').padStart(6)}  ${String(c.latencyP95Ms ?? '–').padStart(6)}`,
    );
  }
  if (report.recommended) {
    console.log(`recommended: ${report.recommended.evidence}`);
    console.log(`  ${report.recommended.uncertainty}`);
  }
  for (const note of report.notes) console.log(`note: ${note}`);
}
