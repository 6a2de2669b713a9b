import { readFileSync } from 'node:fs';
import { type Document, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { PixelError } from '../protocol/errors.ts';
import { type CatalogFile, CatalogFileSchema } from './schema.ts';

/** A parsed catalogue file, kept with its YAML document so later checks can point at a line. */
export interface CatalogSource {
  file: string;
  data: CatalogFile;
  locate(path: ReadonlyArray<string | number>): string;
}

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
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax) {
    const pos = syntax.linePos?.[0];
    const at = pos ? `${file}:${pos.line}:${pos.col}` : file;
    throw catalogError(at, 'yaml', `invalid YAML: ${syntax.message.split('\n')[0]}`, syntax);
  }
  const locate = (path: YamlPath) => `${file}:${lineOf(doc, lineCounter, path)}`;
  const raw = doc.toJS({ maxAliasCount: 1000 }) ?? {};
  const parsed = CatalogFileSchema.safeParse(raw);
  if (!parsed.success) throw issueToError(parsed.error.issues[0]!, raw, locate);
  return { file, data: parsed.data, locate };
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
