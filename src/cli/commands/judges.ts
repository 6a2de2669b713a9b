import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { platformConfigFromEnv } from '../../platform/config.ts';
import { openPlatformDatabase } from '../../platform/open.ts';
import { PixelError } from '../../protocol/errors.ts';
import { calibrateFile, parseRatings } from '../../quality/calibration/ratings-file.ts';
import { judgesReport } from '../../quality/calibration/report.ts';
import { envConnections } from '../../quality/gate/judge-factory.ts';
import { comparePair } from '../../quality/judges/pairwise.ts';
import { createVlmJudge } from '../../quality/judges/vlm.ts';
import { parseLlmSpec } from '../../quality/llm/models.ts';
import { failWith, printJson } from '../output.ts';
import { withPlatform } from '../platform.ts';

const DEFAULT_CRITERIA = [
  'shows the product named in the prompt, whole and true to life',
  'clean background and composition, no text, logos or unrelated objects',
  'no defects or artifacts',
];

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(3));

/** `pixel judges report | calibrate`: how well the quality gate's judges agree with people. */
export function registerJudges(program: Command): void {
  const judges = program
    .command('judges')
    .description('judge–human agreement: report from reviews, calibrate on a rating file');

  judges
    .command('report')
    .description(
      'agreement of each judge with human reviews (per path and category), fitted thresholds, drift',
    )
    .option('--app <app>', 'only this application')
    .option('--team <team>', 'whose reviews (default: local)')
    .option('--min-kappa <k>', 'flag judges below this kappa', '0.4')
    .option('--json', 'machine-readable output')
    .action(async (flags: { app?: string; team?: string; minKappa: string; json?: boolean }) => {
      try {
        const db = await openPlatformDatabase(platformConfigFromEnv(process.env));
        let report: Awaited<ReturnType<typeof judgesReport>>;
        try {
          report = await judgesReport(db, {
            team: flags.team ?? 'local',
            app: flags.app,
            minKappa: Number(flags.minKappa),
          });
        } finally {
          await db.close();
        }
        if (flags.json) return printJson(report);
        for (const j of report.judges)
          console.log(
            `${j.judge}: ${j.images} images, accuracy ${fmt(j.verdicts.accuracy)}, kappa ${fmt(j.verdicts.kappa)}, spearman ${fmt(j.ratings.spearman)}${j.flagged ? '  FLAGGED' : ''}`,
          );
        for (const t of report.thresholds)
          console.log(
            `threshold ${t.app}: ${t.threshold.toFixed(3)} (accuracy ${fmt(t.accuracy)}, kappa ${fmt(t.kappa)}, n ${t.n})`,
          );
        for (const n of report.notes) console.log(`note: ${n}`);
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });

  judges
    .command('compare <imageA> <imageB>')
    .description(
      'which of two stored images of one item is better, judged in both orders (position bias cancelled)',
    )
    .requiredOption(
      '--judge <model>',
      'a vision model, e.g. anthropic/claude-haiku-4-5 or openai/gpt-4.1-mini',
    )
    .option('--criterion <text...>', 'what "better" means (default: the checks a product listing needs)')
    .option('--team <team>', 'whose images (default: local)')
    .option('--json', 'machine-readable output')
    .action(
      async (
        a: string,
        b: string,
        flags: { judge: string; criterion?: string[]; team?: string; json?: boolean },
      ) => {
        try {
          const result = await withPlatform(async (platform) => {
            const caller = { team: flags.team ?? 'local', role: 'member' as const };
            const load = async (id: string, field: string) => {
              const record = await platform.images.get(id, caller);
              const blob = await platform.store.get(record.blobKey);
              if (!blob)
                throw new PixelError({
                  code: 'not_found',
                  field,
                  message: `${field}: the file of ${id} is missing from the store`,
                });
              return { bytes: blob.bytes, mediaType: record.mediaType };
            };
            const judge = createVlmJudge({
              model: flags.judge,
              connection: envConnections(process.env)(parseLlmSpec(flags.judge, 'judge').provider),
            });
            return comparePair(
              judge,
              await load(a, 'imageA'),
              await load(b, 'imageB'),
              flags.criterion ?? DEFAULT_CRITERIA,
            );
          });
          if (flags.json) return printJson({ imageA: a, imageB: b, ...result });
          const winner = result.winner === 'tie' ? 'neither (tie)' : result.winner === 'a' ? a : b;
          console.log(
            `better: ${winner}  P(A better) ${result.pA.toFixed(3)}, position bias ${result.positionBias.toFixed(3)}${result.consistent ? '' : ', orders disagree'}`,
          );
        } catch (error) {
          failWith(error, Boolean(flags.json));
        }
      },
    );

  judges
    .command('calibrate')
    .description('score columns of a human-rating file (JSONL or CSV) against its human column')
    .requiredOption('--ratings <file>', 'JSONL or CSV file')
    .requiredOption('--human <column>', 'the human rating or yes/no verdict column')
    .requiredOption('--score <column...>', 'one or more score columns')
    .option('--json', 'machine-readable output')
    .action(async (flags: { ratings: string; human: string; score: string[]; json?: boolean }) => {
      try {
        let text: string;
        try {
          text = readFileSync(flags.ratings, 'utf8');
        } catch (error) {
          throw new PixelError({
            code: 'not_found',
            field: 'ratings',
            message: `ratings: cannot read ${flags.ratings} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
          });
        }
        const result = calibrateFile(parseRatings(text), flags.human, flags.score);
        if (flags.json) return printJson(result);
        console.log(`${result.rows} rows; human column ${result.human} (${result.humanKind})`);
        for (const c of result.columns) {
          let line = `${c.column}: n ${c.n}, spearman ${fmt(c.spearman)}, kendall tau-b ${fmt(c.kendallTauB)}, pearson ${fmt(c.pearson)}`;
          if (c.verdict)
            line += `; at threshold ${c.verdict.threshold}: accuracy ${fmt(c.verdict.accuracy)}, precision ${fmt(c.verdict.precision)}, recall ${fmt(c.verdict.recall)}, kappa ${fmt(c.verdict.kappa)}`;
          console.log(line);
        }
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });
}
