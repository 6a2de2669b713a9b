import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Document, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { PixelError } from '../protocol/errors.ts';
import { assertCleanText } from '../protocol/input-guards.ts';
import { checkProfile } from './checks.ts';
import { type AppProfile, AppProfileSchema } from './schema.ts';

/** The shipped example applications: `apps/` at the repository root. */
export const APPS_DIR = fileURLToPath(new URL('../../apps/', import.meta.url));

export function appsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PIXEL_APPS_DIR ? resolve(env.PIXEL_APPS_DIR) : APPS_DIR;
}

export interface LoadedApp {
  profile: AppProfile;
  file: string;
  /** sha256 of the validated profile's canonical JSON: formatting and comments do not change it. */
  contentHash: string;
}

export interface LoadResult {
  apps: LoadedApp[];
  /** One error per broken file, naming the file and line; the other files still load. */
  errors: PixelError[];
}

/** Reads every `*.yaml` / `*.yml` in `dir`. A broken file is reported and skipped, never fatal for the others. */
export function loadApplicationFiles(dir: string = appsDir()): LoadResult {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => /\.ya?ml$/.test(n))
      .sort();
  } catch (error) {
    return {
      apps: [],
      errors: [fileError(dir, 'dir', `cannot read the applications folder (${(error as Error).message})`)],
    };
  }
  const apps: LoadedApp[] = [];
  const errors: PixelError[] = [];
  const seen = new Map<string, string>();
  for (const name of names) {
    const file = join(dir, name);
    try {
      const app = parseApplicationText(readFileSync(file, 'utf8'), file);
      const expected = basename(name).replace(/\.ya?ml$/, '');
      if (app.profile.name !== expected) {
        throw fileError(
          `${file}:1`,
          'name',
          `name "${app.profile.name}" must match the file name "${expected}"`,
        );
      }
      const previous = seen.get(app.profile.name);
      if (previous)
        throw fileError(
          `${file}:1`,
          'name',
          `application "${app.profile.name}" is already defined in ${previous}`,
        );
      seen.set(app.profile.name, file);
      apps.push(app);
    } catch (error) {
      errors.push(PixelError.isInstance(error) ? error : fileError(file, 'file', (error as Error).message));
    }
  }
  return { apps, errors };
}

/** Parses a YAML (or JSON, a subset of YAML) profile; errors name `source:line`. */
export function parseApplicationText(text: string, source: string): LoadedApp {
  const lineCounter = new LineCounter();
  // The parser's own refusals (alias expansion past the bound, nesting beyond the stack, …) are the
  // caller's bad input like a syntax error, never a server failure.
  let doc: Document;
  let raw: unknown;
  try {
    doc = parseDocument(text, { lineCounter });
    const syntax = doc.errors[0];
    if (syntax) {
      const pos = syntax.linePos?.[0];
      const at = pos ? `${source}:${pos.line}:${pos.col}` : source;
      const reason = syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      throw fileError(at, 'yaml', `invalid YAML: ${reason}`);
    }
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (error) {
    if (PixelError.isInstance(error)) throw error;
    throw yamlRefused(source, error);
  }
  assertCleanText(raw, 'profile');
  const result = AppProfileSchema.safeParse(raw);
  const locate = (path: (string | number)[]) => `${source}:${lineOf(doc, lineCounter, path)}`;
  if (!result.success) throw issueError(result.error.issues[0]!, locate);
  const problem = checkProfile(result.data)[0];
  if (problem)
    throw fileError(
      locate(problem.path),
      problem.path.join('.'),
      `${problem.path.join('.')}: ${problem.message}`,
    );
  return { profile: result.data, file: source, contentHash: profileHash(result.data) };
}

/** Validates a profile given as an object (API updates). */
export function parseApplicationObject(raw: unknown, source = 'profile'): LoadedApp {
  assertCleanText(raw, source);
  const result = AppProfileSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issuePath(issue);
    throw new PixelError({
      code: 'invalid_argument',
      reason: 'validation',
      field: `${source}.${path.join('.')}`,
      message: `${source}.${path.join('.')}: ${issue.message}`,
    });
  }
  const problem = checkProfile(result.data)[0];
  if (problem) {
    throw new PixelError({
      code: 'invalid_argument',
      reason: 'validation',
      field: `${source}.${problem.path.join('.')}`,
      message: `${source}.${problem.path.join('.')}: ${problem.message}`,
    });
  }
  return { profile: result.data, file: source, contentHash: profileHash(result.data) };
}

export function profileHash(profile: AppProfile): string {
  return createHash('sha256').update(stableJson(profile)).digest('hex');
}

export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Aliases one document may expand: far above any real profile, far below a billion laughs. */
const MAX_ALIAS_COUNT = 1000;

function yamlRefused(source: string, error: unknown): PixelError {
  const detail =
    error instanceof RangeError
      ? 'it is nested too deeply'
      : /alias/i.test(error instanceof Error ? error.message : '')
        ? 'it expands too many aliases (a YAML bomb?)'
        : (error instanceof Error ? error.message : String(error)).split('\n')[0];
  return new PixelError({
    code: 'invalid_argument',
    reason: 'app_invalid',
    field: 'yaml',
    message: `application ${source}: the YAML parser refused the profile: ${detail}`,
  });
}

function fileError(where: string, field: string, message: string): PixelError {
  return new PixelError({
    code: 'failed_precondition',
    reason: 'app_invalid',
    field,
    message: `application ${where}: ${message}`,
  });
}

function issuePath(issue: z.core.$ZodIssue): (string | number)[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  return issue.code === 'unrecognized_keys' && issue.keys[0] ? [...path, issue.keys[0]] : path;
}

function issueError(issue: z.core.$ZodIssue, locate: (p: (string | number)[]) => string): PixelError {
  const path = issuePath(issue);
  const field = path.join('.') || '(profile)';
  return fileError(
    locate(path),
    field,
    `${field}: ${issue.code === 'unrecognized_keys' ? 'is not a known field' : issue.message}`,
  );
}

/** Line of the deepest node that exists along `path` (a missing field points at its parent). */
function lineOf(doc: Document, counter: LineCounter, path: (string | number)[]): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return counter.linePos(node.range[0]).line;
  }
  return 1;
}
