import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { invalidArgument, PixelError } from '../../protocol/errors.ts';
import { questionsFor } from '../../quality/questions/questions.ts';
import { QuestionStore } from '../../quality/questions/store.ts';
import { failWith, printJson } from '../output.ts';
import { withPlatform } from '../platform.ts';

function parseVars(entries: string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw invalidArgument('vars', `--var must look like key=value, got "${entry}"`);
    vars[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return vars;
}

interface ItemFlags {
  app: string;
  var?: string[];
  team?: string;
  reviewer?: string;
  json?: boolean;
}

const item = (c: Command) =>
  c
    .requiredOption('--app <name>', 'the application')
    .option('--var <key=value...>', 'the item’s template variables (repeatable)')
    .option('--team <team>', 'whose application version (default: local)')
    .option('--json', 'machine-readable output');

/**
 * `pixel questions show | edit`: the quality gate's questions for one item (application version +
 * variables): the cached set, or the rubric rendered with the item; a team member may replace it.
 */
export function registerQuestions(program: Command): void {
  const questions = program
    .command('questions')
    .description("the quality gate's questions for an item: show, or replace them with the team's edit");

  item(questions.command('show').description('the questions the gate asks about this item')).action(
    async (flags: ItemFlags) => {
      try {
        const out = await withPlatform(async (platform) => {
          const vars = flags.var?.length ? parseVars(flags.var) : {};
          const resolved = await platform.applications.resolver()({
            app: flags.app,
            vars,
            team: flags.team ?? 'local',
          });
          const set = await questionsFor(
            {
              app: resolved.app,
              appVersion: resolved.appVersion,
              appDescription: resolved.app,
              vars,
              prompt: resolved.prompt,
              rubric: resolved.rubric,
            },
            { store: new QuestionStore(platform.db) },
          );
          return { app: resolved.app, appVersion: resolved.appVersion, vars, ...set };
        });
        if (flags.json) return printJson(out);
        console.log(
          `${out.app} version ${out.appVersion}, ${out.questions.length} questions (${out.writer})`,
        );
        for (const q of out.questions)
          console.log(
            `${q.id}  [${q.category}${q.critical ? ', critical' : ''}]  ${q.text}  → ${q.expected}${q.dependsOn ? `  (after ${q.dependsOn})` : ''}`,
          );
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    },
  );

  item(questions.command('edit').description("replace the item's questions with a YAML or JSON list"))
    .requiredOption(
      '--file <path>',
      'a list of {id, text, expected, category, critical, dependsOn?, fixHint}',
    )
    .option('--reviewer <name>', 'who edits (recorded)')
    .action(async (flags: ItemFlags & { file: string }) => {
      try {
        let text: string;
        try {
          text = readFileSync(flags.file, 'utf8');
        } catch (error) {
          throw new PixelError({
            code: 'not_found',
            field: 'file',
            message: `file: cannot read ${flags.file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
          });
        }
        const list = (parse(text) as Array<Record<string, unknown>> | null) ?? [];
        const edited = Array.isArray(list) ? list.map((q) => ({ source: 'team', ...q })) : list;
        const saved = await withPlatform(async (platform) => {
          const vars = flags.var?.length ? parseVars(flags.var) : {};
          const team = flags.team ?? 'local';
          const resolved = await platform.applications.resolver()({ app: flags.app, vars, team });
          return new QuestionStore(platform.db).edit(
            { team, role: 'member', ...(flags.reviewer ? { name: flags.reviewer } : {}) },
            resolved.app,
            resolved.appVersion,
            vars,
            edited,
          );
        });
        if (flags.json) return printJson(saved);
        console.log(`saved ${saved.questions.length} questions for ${saved.app} version ${saved.appVersion}`);
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });
}
