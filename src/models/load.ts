import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Document, LineCounter } from 'yaml';
import type { z } from 'zod';
import { PixelError } from '../protocol/errors.ts';
import { readCached, writeCached } from './cache.ts';
import { type CatalogFile, CatalogFileSchema } from './schema.ts';

/** A parsed catalogue file, kept with its YAML document so later checks can point at a line. */
export interface CatalogSource {
  file: string;
  data: CatalogFile;
  locate(path: ReadonlyArray<string | number>): string;
}

// `yaml` is loaded on first need: with a warm cache the CLI never pays for importing it.
const requireYaml = () => createRequire(import.meta.url)('yaml') as typeof import('yaml');

export type YamlPath = ReadonlyArray<string | number>;

/** `models[3].cfg.min` from ['models', 3, 'cfg', 'min']. */
export function formatPath(path: YamlPath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out;
}

/** The error every catalogue problem becomes: names the file (with line), the entry and the field. */
export function catalogError(where: string, field: string, message: string, cause?: unknown): PixelError {
  return new PixelError({
    code: 'failed_precondition',
    reason: 'catalog_invalid',
    field,
    message: `catalogue ${where}: ${message}`,
    cause,
  });
}

/** Reads, parses and validates one catalogue YAML file. */
export function readCatalogFile(file: string): CatalogSource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw catalogError(file, 'file', `cannot read the file (${(error as Error).message})`, error);
  }
  return parseCatalogText(file, text);
}

export function parseCatalogText(file: string, text: string): CatalogSource {
  // Line numbers are only needed for error messages: parse the YAML document lazily.
  let parsed: { doc: Document; lineCounter: LineCounter } | undefined;
  const document = () => {
    if (!parsed) {
      const yaml = requireYaml();
      const lineCounter = new yaml.LineCounter();
      parsed = { doc: yaml.parseDocument(text, { lineCounter }), lineCounter };
    }
    return parsed;
  };
  const locate = (path: YamlPath) => {
    const { doc, lineCounter } = document();
    return `${file}:${lineOf(doc, lineCounter, path)}`;
  };

  const cached = readCached(text);
  if (cached !== undefined) {
    const fromCache = CatalogFileSchema.safeParse(cached);
    if (fromCache.success) return { file, data: fromCache.data, locate };
  }

  const { doc } = document();
  const syntax = doc.errors[0];
  if (syntax) {
    const pos = syntax.linePos?.[0];
    const at = pos ? `${file}:${pos.line}:${pos.col}` : file;
    // prettyErrors (the default) fills linePos; the message's own "at line …" tail would repeat it.
    const reason = syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw catalogError(at, 'yaml', `invalid YAML: ${reason}`, syntax);
  }
  const raw = doc.toJS({ maxAliasCount: 1000 }) ?? {};
  const result = CatalogFileSchema.safeParse(raw);
  if (!result.success) throw issueToError(result.error.issues[0]!, raw, locate);
  writeCached(text, raw);
  return { file, data: result.data, locate };
}

function issueToError(issue: z.core.$ZodIssue, raw: unknown, locate: (p: YamlPath) => string): PixelError {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  // unrecognized keys are reported on the parent object: point at the first stray key instead.
  const fieldPath = issue.code === 'unrecognized_keys' && issue.keys[0] ? [...path, issue.keys[0]] : path;
  const entry = entryLabel(raw, fieldPath);
  const inner = fieldPath.slice(2);
  const field = formatPath(fieldPath);
  const what = inner.length > 0 ? formatPath(inner) : field;
  return catalogError(locate(fieldPath), field, `${entry}${what}: ${issue.message}`);
}

/** `model "openai/gpt-image-1.5" ` or `alias "flux-dev" ` for paths inside models[i] / aliases[i]. */
function entryLabel(raw: unknown, path: YamlPath): string {
  const [list, index] = path;
  if ((list !== 'models' && list !== 'aliases') || typeof index !== 'number') return '';
  const item = (raw as Record<string, unknown[]>)[list]?.[index] as Record<string, unknown> | undefined;
  const name = list === 'models' ? item?.id : item?.alias;
  const kind = list === 'models' ? 'model' : 'alias';
  return typeof name === 'string' ? `${kind} "${name}" ` : `${kind} #${index + 1} `;
}

/** Line of the deepest node that exists along `path` (a missing field points at its parent). */
function lineOf(doc: Document, counter: LineCounter, path: YamlPath): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return counter.linePos(node.range[0]).line;
  }
  return 1;
}
