import type { Command } from 'commander';
import { invalidArgument } from '../protocol/errors.ts';

/** The unified-protocol flags shared by `generate` and `translate`. */
export function addRequestFlags(command: Command): Command {
  return command
    .argument('[prompt]', 'what to draw (optional with --app: the application template writes it)')
    .option('-m, --model <id>', 'model id or alias (default: pixel/sketch when no provider keys are set)')
    .option('-W, --width <px>', 'width in pixels')
    .option('-H, --height <px>', 'height in pixels')
    .option('-a, --aspect <W:H>', 'aspect ratio, e.g. 16:9')
    .option('--cfg <1-20>', 'prompt adherence on the unified 1–20 scale (7 = model default)')
    .option(
      '--style <name>',
      'photographic, studio-product, lifestyle, illustration, flat-vector, 3d-render, cinematic, line-art, anime',
    )
    .option('--negative <text>', 'what must not appear')
    .option('--seed <0-4294967295>', 'seed (0 is a seed like any other)')
    .option('-n, --n <count>', 'number of images', '1')
    .option('--steps <count>', 'explicit sampling steps')
    .option('--quality <tier>', 'draft, standard or high')
    .option('--format <fmt>', 'png, jpeg or webp')
    .option('--background <bg>', 'auto, opaque or transparent')
    .option('--fit <mode>', 'exact (crop+resize to the exact size) or native (nearest native size)')
    .option(
      '--on-unsupported <mode>',
      'warn (default) or error: fail when a parameter would be dropped or emulated',
    )
    .option(
      '--provider-option <provider.key=value...>',
      'raw native field for one provider, e.g. openai.moderation=low (repeatable)',
    )
    .option(
      '--app <name>',
      'render an application profile (apps/*.yaml and its versions) instead of a bare prompt',
    )
    .option('--var <key=value...>', 'a template variable for --app (repeatable)')
    .option('--app-label <label>', 'application label to use (default: team label, then production)')
    .option('--app-version <n>', 'a specific application version')
    .option('--json', 'machine-readable output');
}

export interface RequestFlags {
  model?: string;
  width?: string;
  height?: string;
  aspect?: string;
  cfg?: string;
  style?: string;
  negative?: string;
  seed?: string;
  n?: string;
  steps?: string;
  quality?: string;
  format?: string;
  background?: string;
  fit?: string;
  onUnsupported?: string;
  providerOption?: string[];
  app?: string;
  var?: string[];
  appLabel?: string;
  appVersion?: string;
  json?: boolean;
}

/** Builds the unified request; numbers stay strings when they are not numbers, so validation names them. */
export function requestFromFlags(prompt: string | undefined, flags: RequestFlags): Record<string, unknown> {
  const request: Record<string, unknown> = {};
  if (prompt !== undefined || flags.app === undefined) request.prompt = prompt ?? '';
  const set = (key: string, value: unknown) => {
    if (value !== undefined) request[key] = value;
  };
  set('model', flags.model);
  set('width', numeric(flags.width));
  set('height', numeric(flags.height));
  set('aspectRatio', flags.aspect);
  set('cfgScale', numeric(flags.cfg));
  set('style', flags.style);
  set('negativePrompt', flags.negative);
  set('seed', numeric(flags.seed));
  set('n', numeric(flags.n));
  set('steps', numeric(flags.steps));
  set('quality', flags.quality);
  set('format', flags.format === 'jpg' ? 'jpeg' : flags.format);
  set('background', flags.background);
  set('fit', flags.fit);
  set('onUnsupported', flags.onUnsupported);
  if (flags.providerOption?.length) request.providerOptions = parseProviderOptions(flags.providerOption);
  set('app', flags.app);
  if (flags.var?.length) request.vars = parseVars(flags.var);
  set('appLabel', flags.appLabel);
  set('appVersion', numeric(flags.appVersion));
  return request;
}

function numeric(value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : value;
}

function parseProviderOptions(entries: string[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const entry of entries) {
    const match = /^([a-z0-9_-]+)\.([A-Za-z0-9_.-]+)=(.*)$/s.exec(entry);
    if (!match)
      throw invalidArgument(
        'providerOptions',
        `--provider-option must look like provider.key=value, got "${entry}"`,
      );
    const [, provider, key, raw] = match as unknown as [string, string, string, string];
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // plain strings need no quotes
    }
    out[provider] ??= {};
    out[provider][key] = value;
  }
  return out;
}

function parseVars(entries: string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw invalidArgument('vars', `--var must look like key=value, got "${entry}"`);
    vars[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return vars;
}
