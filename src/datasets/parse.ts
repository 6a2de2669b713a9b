import { badTextReason } from '../protocol/input-guards.ts';

/** One good dataset row: template variables, an optional product category and external id. */
export interface DatasetItem {
  /** 1-based line of the source file where the row starts. */
  line: number;
  externalId: string | null;
  category: string | null;
  vars: Record<string, string>;
}

export interface RejectedRow {
  line: number;
  reason: string;
}

export interface ParsedDataset {
  format: 'csv' | 'jsonl';
  items: DatasetItem[];
  rejected: RejectedRow[];
}

export const MAX_ITEMS = 100_000;
const MAX_VARS = 64;
const MAX_VALUE_CHARS = 2_000;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Columns (CSV) or keys (JSONL) that are not template variables. */
const EXTERNAL_ID_KEYS = ['external_id', 'externalId', 'id'];
const CATEGORY_KEYS = ['category', 'product_category', 'productCategory'];

/**
 * Parses a dataset file. Every bad row is reported with its line and reason; the good rows are kept.
 * CSV: RFC 4180 (quoted fields may hold commas, quotes as "", and newlines), a header row naming the
 * columns; `external_id`/`id` and `category`/`product_category` are metadata, every other column a variable.
 * JSONL: one object per line, either `{ external_id, category, vars: {…} }` or flat keys (then every key
 * but the metadata ones is a variable). Values must be strings, numbers or booleans (kept as text).
 */
export function parseDataset(text: string, format: 'csv' | 'jsonl'): ParsedDataset {
  const rows = format === 'csv' ? csvObjects(text) : jsonlObjects(text);
  const items: DatasetItem[] = [];
  const rejected: RejectedRow[] = [...rows.rejected];
  const seenIds = new Map<string, number>();
  for (const row of rows.rows) {
    const checked = toItem(row.value, row.line);
    if (typeof checked === 'string') {
      rejected.push({ line: row.line, reason: checked });
      continue;
    }
    if (checked.externalId !== null) {
      const first = seenIds.get(checked.externalId);
      if (first !== undefined) {
        rejected.push({
          line: row.line,
          reason: `external_id "${checked.externalId}" repeats line ${first}`,
        });
        continue;
      }
      seenIds.set(checked.externalId, row.line);
    }
    if (items.length >= MAX_ITEMS) {
      rejected.push({ line: row.line, reason: `a dataset holds at most ${MAX_ITEMS} items` });
      continue;
    }
    items.push(checked);
  }
  rejected.sort((a, b) => a.line - b.line);
  return { format, items, rejected };
}

export function formatOf(fileName: string): 'csv' | 'jsonl' | undefined {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  return undefined;
}

interface RawRows {
  rows: Array<{ line: number; value: unknown }>;
  rejected: RejectedRow[];
}

function toItem(value: unknown, line: number): DatasetItem | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return 'a row must be an object';
  }
  const record = value as Record<string, unknown>;
  const externalId = pickText(record, EXTERNAL_ID_KEYS);
  const category = pickText(record, CATEGORY_KEYS);
  if (typeof externalId === 'object') return externalId.error;
  if (typeof category === 'object') return category.error;
  let source: Record<string, unknown>;
  if ('vars' in record) {
    const vars = record.vars;
    if (vars === null || typeof vars !== 'object' || Array.isArray(vars)) return 'vars must be an object';
    source = vars as Record<string, unknown>;
  } else {
    source = Object.fromEntries(
      Object.entries(record).filter(([k]) => !EXTERNAL_ID_KEYS.includes(k) && !CATEGORY_KEYS.includes(k)),
    );
  }
  const vars: Record<string, string> = {};
  const entries = Object.entries(source);
  if (entries.length > MAX_VARS) return `a row has at most ${MAX_VARS} variables, got ${entries.length}`;
  for (const [name, raw] of entries) {
    if (!VAR_NAME.test(name)) return `variable name "${name.slice(0, 40)}" must match ${VAR_NAME.source}`;
    if (raw === null || raw === undefined || raw === '') continue;
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      return `variable ${name} must be text, a number or a boolean`;
    }
    const text = String(raw);
    if (text.length > MAX_VALUE_CHARS) return `variable ${name} is longer than ${MAX_VALUE_CHARS} characters`;
    const bad = badTextReason(text);
    if (bad) return `variable ${name} ${bad}`;
    vars[name] = text;
  }
  if (Object.keys(vars).length === 0) return 'the row has no variables';
  return {
    line,
    externalId: externalId ?? null,
    category: category ?? null,
    vars,
  };
}

function pickText(record: Record<string, unknown>, keys: string[]): string | undefined | { error: string } {
  for (const key of keys) {
    const raw = record[key];
    if (raw === undefined || raw === null || raw === '') continue;
    if (typeof raw !== 'string' && typeof raw !== 'number') return { error: `${key} must be text` };
    const text = String(raw).trim();
    if (text.length === 0) continue;
    if (text.length > 200) return { error: `${key} is longer than 200 characters` };
    const bad = badTextReason(text);
    if (bad) return { error: `${key} ${bad}` };
    return text;
  }
  return undefined;
}

function jsonlObjects(text: string): RawRows {
  const rows: RawRows['rows'] = [];
  const rejected: RejectedRow[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    try {
      rows.push({ line: i + 1, value: JSON.parse(line) });
    } catch (error) {
      rejected.push({ line: i + 1, reason: `not valid JSON: ${(error as Error).message}` });
    }
  }
  return { rows, rejected };
}

function csvObjects(text: string): RawRows {
  const records = csvRecords(text.startsWith('\uFEFF') ? text.slice(1) : text);
  const rows: RawRows['rows'] = [];
  const rejected: RejectedRow[] = [];
  const header = records.find((r) => !r.blank);
  if (!header) return { rows, rejected };
  if (header.error) return { rows, rejected: [{ line: header.line, reason: header.error }] };
  const names = header.fields.map((f) => f.trim());
  const seen = new Set<string>();
  for (const name of names) {
    if (name === '' || seen.has(name)) {
      return {
        rows,
        rejected: [{ line: header.line, reason: `the header has an empty or repeated column "${name}"` }],
      };
    }
    seen.add(name);
  }
  for (const record of records) {
    if (record === header || record.blank) continue;
    if (record.error) {
      rejected.push({ line: record.line, reason: record.error });
      continue;
    }
    if (record.fields.length !== names.length) {
      rejected.push({
        line: record.line,
        reason: `expected ${names.length} fields (the header's), got ${record.fields.length}`,
      });
      continue;
    }
    rows.push({ line: record.line, value: Object.fromEntries(names.map((n, i) => [n, record.fields[i]])) });
  }
  return { rows, rejected };
}

interface CsvRecord {
  line: number;
  fields: string[];
  blank: boolean;
  error?: string;
}

/** RFC 4180 records with the line each starts on; a quote left open is an error for that record. */
export function csvRecords(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let error: string | undefined;
    let ended = false;
    while (i < n && !ended) {
      const c = text[i]!;
      if (quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            quoted = false;
            i++;
            const next = text[i];
            if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
              error ??= 'text after a closing quote';
            }
          }
        } else {
          if (c === '\n') line++;
          field += c;
          i++;
        }
      } else if (c === '"') {
        if (field.trim() !== '') error ??= 'a quote inside an unquoted field';
        quoted = true;
        field = '';
        i++;
      } else if (c === ',') {
        fields.push(field);
        field = '';
        i++;
      } else if (c === '\r' || c === '\n') {
        i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
        line++;
        ended = true;
      } else {
        field += c;
        i++;
      }
    }
    if (quoted) error ??= 'a quoted field is never closed';
    fields.push(field);
    const blank = fields.length === 1 && fields[0]!.trim() === '' && !error;
    records.push({ line: start, fields, blank, ...(error && { error }) });
  }
  return records;
}
