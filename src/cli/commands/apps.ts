import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Actor } from '../../apps/permissions.ts';
import type { Applications } from '../../apps/service.ts';
import { invalidArgument } from '../../protocol/errors.ts';
import { previewJson } from '../../server/rpc-apps.ts';
import { failWith, printJson } from '../output.ts';
import { withPlatform } from '../platform.ts';
import { formatReport } from '../report-format.ts';

/**
 * `pixel apps …`: application profiles, versions and labels, straight on the catalogue DB
 * (PIXEL_DATA_DIR's PGlite, or DATABASE_URL), acting as an admin like the other local commands.
 */
export function registerApps(program: Command): void {
  const apps = program
    .command('apps')
    .description('application profiles: templates, defaults, versions and labels');

  apps
    .command('list')
    .description('applications with their versions and labels')
    .option('--json', 'machine-readable output')
    .action((flags: { json?: boolean }) =>
      run(flags, async (a, actor) => {
        const list = await a.list(actor);
        if (flags.json) return printJson(list);
        const width = Math.max(4, ...list.map((x) => x.name.length));
        for (const app of list) {
          const labels = Object.entries(app.labels)
            .map(([l, v]) => `${l}=v${v}`)
            .join(' ');
          const def = app.defaultVersion === null ? '' : ` default=v${app.defaultVersion}`;
          console.log(
            `${app.name.padEnd(width)}  latest=v${app.latestVersion}${def}${labels ? ` ${labels}` : ''}  ${app.title}`,
          );
        }
      }),
    );

  apps
    .command('show <app>')
    .description(
      'the version a caller gets (team label → production → file default), or the one named, as YAML',
    )
    .option('--label <label>', 'a label (production, staging, team:<id>, latest, default)')
    .option('--version <n>', 'a version number')
    .option('--team <team>', 'resolve as this team would (its team:<team> label first)')
    .option('--history', 'also list every version and the audit trail')
    .option('--json', 'machine-readable output')
    .action(
      (
        name: string,
        flags: { label?: string; version?: string; team?: string; history?: boolean; json?: boolean },
      ) =>
        run(flags, async (a, actor) => {
          const who = flags.team ? { ...actor, team: flags.team } : actor;
          const detail = await a.get(name, who, {
            label: flags.label,
            version: versionOf(flags.version, 'version'),
          });
          const history = flags.history ? await a.versions(name, actor) : undefined;
          if (flags.json) return printJson({ ...detail, ...(history && { history }) });
          const v = detail.version;
          console.log(
            `# ${name} v${v.version} (${detail.via}) by ${v.author} at ${v.createdAt.toISOString()}${v.message ? `: ${v.message}` : ''}`,
          );
          console.log(
            `# labels: ${detail.labels.map((l) => `${l.label}=v${l.version}`).join(' ') || '(none)'}; file default v${detail.defaultVersion ?? '-'}; latest v${detail.latestVersion}`,
          );
          process.stdout.write(detail.yaml);
          if (history) {
            console.log('# versions');
            for (const x of history.versions)
              console.log(
                `#   v${x.version} ${x.source} by ${x.author} ${x.createdAt.toISOString()} ${x.message}`,
              );
            console.log('# audit');
            for (const e of history.audit)
              console.log(
                `#   ${e.createdAt.toISOString()} ${e.actor} ${e.action}${e.label ? ` ${e.label}` : ''}${e.version !== null ? ` v${e.version}` : ''} ${e.message}`,
              );
          }
        }),
    );

  apps
    .command('preview <app>')
    .description('the rendered prompt and the native request a model would get, without generating')
    .option('--var <name=value...>', 'a template variable (repeatable)')
    .option('-m, --model <id>', 'model id or alias (default: the application’s)')
    .option('--label <label>', 'application label to use')
    .option('--version <n>', 'application version to use')
    .option('--team <team>', 'preview as this team (its override first)')
    .option('-W, --width <px>', 'width in pixels')
    .option('-H, --height <px>', 'height in pixels')
    .option('-a, --aspect <W:H>', 'aspect ratio')
    .option('--cfg <1-20>', 'prompt adherence on the unified scale')
    .option('--style <name>', 'style')
    .option('--steps <count>', 'sampling steps')
    .option('--seed <n>', 'seed')
    .option('--json', 'machine-readable output')
    .action((name: string, flags: PreviewFlags) =>
      run(flags, async (a, actor) => {
        const who = flags.team ? { ...actor, team: flags.team } : actor;
        const result = await a.preview(
          {
            app: name,
            vars: parseVars(flags.var ?? []),
            label: flags.label,
            version: versionOf(flags.version, 'version'),
            request: previewRequest(flags),
          },
          who,
        );
        if (flags.json) return printJson(previewJson(result));
        const r = result.resolved;
        const t = result.translation;
        console.log(`application  ${r.app} v${r.appVersion} (${r.via})`);
        console.log(
          `model        ${t.model.id} (family ${r.family}${r.variant ? `, variant ${r.variant}` : ''})${r.routedModel ? ' (routed fine-tune)' : ''}`,
        );
        console.log(`prompt       ${r.prompt}`);
        if (r.negativePrompt) console.log(`negative     ${r.negativePrompt}`);
        if (r.unusedVars.length > 0) console.log(`unused vars  ${r.unusedVars.join(', ')}`);
        console.log(
          `cost         ${t.costEstimateUsd === null ? 'unknown' : `$${t.costEstimateUsd.toFixed(4)}`}`,
        );
        if (r.fewShots.length > 0) {
          console.log('few-shots');
          for (const shot of r.fewShots) {
            const vars = Object.entries(shot.vars)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ');
            console.log(`  [${vars}] ${shot.prompt}${shot.note ? `\n    (${shot.note})` : ''}`);
          }
        }
        console.log('report');
        console.log(formatReport(result.report));
        console.log('native request (first call)');
        console.log(JSON.stringify(t.calls[0]!.body, null, 2));
      }),
    );

  apps
    .command('update <app>')
    .description('a new version from a profile file (YAML or JSON); the file’s name field must match')
    .requiredOption('--file <path>', 'the whole profile')
    .option('--label <label>', 'publish the new version under this label')
    .option('--message <text>', 'what changed and why (kept in the audit trail)')
    .option('--json', 'machine-readable output')
    .action((name: string, flags: { file: string; label?: string; message?: string; json?: boolean }) =>
      run(flags, async (a, actor) => {
        let text: string;
        try {
          text = readFileSync(flags.file, 'utf8');
        } catch (error) {
          throw invalidArgument('file', `cannot read ${flags.file} (${(error as Error).message})`);
        }
        const out = await a.update(name, text, actor, {
          label: flags.label,
          message: flags.message,
          source: flags.file,
        });
        if (flags.json) return printJson({ application: name, ...out });
        console.log(`${name} v${out.version} created${out.label ? `; ${out.label} → v${out.version}` : ''}`);
      }),
    );

  apps
    .command('label <app> <label> <version>')
    .description('point a label (production, staging, team:<id>, any name) at a version')
    .option('--message <text>', 'why (kept in the audit trail)')
    .option('--json', 'machine-readable output')
    .action((name: string, label: string, version: string, flags: { message?: string; json?: boolean }) =>
      run(flags, async (a, actor) => {
        const v = versionOf(version, 'version')!;
        const { previous } = await a.label(name, label, v, actor, flags.message);
        if (flags.json) return printJson({ application: name, label, version: v, previous });
        console.log(`${name} ${label}: ${previous === null ? '(new)' : `v${previous}`} → v${v}`);
      }),
    );

  apps
    .command('diff <app> <from> <to>')
    .description('a line diff between two versions')
    .option('--json', 'machine-readable output')
    .action((name: string, from: string, to: string, flags: { json?: boolean }) =>
      run(flags, async (a, actor) => {
        const diff = await a.diff(name, versionOf(from, 'from')!, versionOf(to, 'to')!, actor);
        if (flags.json)
          return printJson({
            application: name,
            from: diff.from,
            to: diff.to,
            changed: diff.changed,
            text: diff.text,
          });
        console.log(diff.changed ? diff.text : `v${diff.from} and v${diff.to} are the same`);
      }),
    );

  apps
    .command('rollback <app>')
    .description('move a label back one step (or to --to <version>)')
    .option('--label <label>', 'the label to move', 'production')
    .option('--to <version>', 'the version to move it to')
    .option('--json', 'machine-readable output')
    .action((name: string, flags: { label: string; to?: string; json?: boolean }) =>
      run(flags, async (a, actor) => {
        const out = await a.rollback(name, actor, { label: flags.label, to: versionOf(flags.to, 'to') });
        if (flags.json) return printJson({ application: name, ...out });
        console.log(`${name} ${out.label}: v${out.from} → v${out.to}`);
      }),
    );
}

interface PreviewFlags {
  var?: string[];
  model?: string;
  label?: string;
  version?: string;
  team?: string;
  width?: string;
  height?: string;
  aspect?: string;
  cfg?: string;
  style?: string;
  steps?: string;
  seed?: string;
  json?: boolean;
}

/** Builds the platform (file defaults loaded, broken files reported on stderr), runs, closes on every path. */
async function run(
  flags: { json?: boolean },
  body: (apps: Applications, actor: Actor) => Promise<void>,
): Promise<void> {
  try {
    await withPlatform((platform) => body(platform.applications, cliActor()));
  } catch (error) {
    failWith(error, Boolean(flags.json));
  }
}

/** The CLI works on the local catalogue as its administrator; the audit names the OS user. */
function cliActor(): Actor {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  return { team: 'admin', role: 'admin', name: `cli:${user}` };
}

function parseVars(entries: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of entries) {
    const at = entry.indexOf('=');
    if (at <= 0) throw invalidArgument('var', `--var must look like name=value, got "${entry}"`);
    out[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return out;
}

function versionOf(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.replace(/^v/, ''));
  if (!Number.isInteger(n) || n < 1)
    throw invalidArgument(field, `${field} must be a version number (1, 2, …), got "${value}"`);
  return n;
}

function previewRequest(flags: PreviewFlags): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const num = (v: string | undefined) =>
    v === undefined ? undefined : Number.isFinite(Number(v)) ? Number(v) : v;
  const set = (key: string, value: unknown) => {
    if (value !== undefined) out[key] = value;
  };
  set('model', flags.model);
  set('width', num(flags.width));
  set('height', num(flags.height));
  set('aspectRatio', flags.aspect);
  set('cfgScale', num(flags.cfg));
  set('style', flags.style);
  set('steps', num(flags.steps));
  set('seed', num(flags.seed));
  return out;
}
