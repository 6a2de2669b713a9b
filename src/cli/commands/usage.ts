import type { Command } from 'commander';
import { UsageRepo } from '../../catalog/usage.ts';
import { invalidArgument } from '../../protocol/errors.ts';
import { failWith, printJson } from '../output.ts';
import { withPlatform } from '../platform.ts';

/** `pixel usage`: what images cost, per team, application, model and run; team monthly budgets. */
export function registerUsage(program: Command): void {
  program
    .command('usage')
    .description('usage and cost per team, application, model and run; set a team monthly budget')
    .option('--team <team>', 'only this team')
    .option('--since <date>', 'only images since this date (YYYY-MM-DD or ISO time)')
    .option('--set-budget <usd>', "set --team's monthly budget (USD)")
    .option('--clear-budget', "remove --team's monthly budget")
    .option('--json', 'machine-readable output')
    .action(
      async (flags: {
        team?: string;
        since?: string;
        setBudget?: string;
        clearBudget?: boolean;
        json?: boolean;
      }) => {
        try {
          let since: Date | undefined;
          if (flags.since !== undefined) {
            since = new Date(flags.since);
            if (Number.isNaN(since.getTime()))
              throw invalidArgument('since', `is not a date: "${flags.since}"`);
          }
          const budget = flags.setBudget === undefined ? undefined : Number(flags.setBudget);
          if ((budget !== undefined || flags.clearBudget) && !flags.team) {
            throw invalidArgument('team', 'a budget belongs to a team: give --team');
          }
          if (budget !== undefined && !(budget >= 0))
            throw invalidArgument('set-budget', 'must be an amount ≥ 0');
          await withPlatform(async (platform) => {
            const repo = new UsageRepo(platform.db);
            if (budget !== undefined || flags.clearBudget) {
              await repo.setTeamBudget(flags.team!, flags.clearBudget ? null : budget!, Date.now());
            }
            const report = await repo.report({
              ...(flags.team && { team: flags.team }),
              ...(since && { since }),
            });
            const teamBudget = flags.team
              ? {
                  team: flags.team,
                  monthlyUsd: await repo.teamBudget(flags.team),
                  spentThisMonthUsd: await repo.spentThisMonth(flags.team, Date.now()),
                }
              : undefined;
            if (flags.json) {
              printJson({ ...report, ...(teamBudget && { budget: teamBudget }) });
              return;
            }
            console.log(
              'team          application         model                                images    cost USD',
            );
            for (const r of report.byKey) {
              console.log(
                `${r.team.padEnd(12)}  ${(r.application ?? '-').padEnd(18)}  ${r.model.padEnd(35)}  ${String(r.images).padStart(6)}  ${r.costUsd.toFixed(4).padStart(10)}`,
              );
            }
            console.log(`total: ${report.totalImages} images, $${report.totalCostUsd.toFixed(4)}`);
            for (const r of report.byRun) {
              console.log(
                `run ${r.runId}  ${r.kind}  ${r.team}  ${r.images} images  $${r.costUsd.toFixed(4)}`,
              );
            }
            if (teamBudget) {
              console.log(
                `team ${teamBudget.team}: $${teamBudget.spentThisMonthUsd.toFixed(4)} this month of ${teamBudget.monthlyUsd === null ? 'no budget' : `$${teamBudget.monthlyUsd.toFixed(2)}`}`,
              );
            }
          });
        } catch (error) {
          failWith(error, Boolean(flags.json));
        }
      },
    );
}
