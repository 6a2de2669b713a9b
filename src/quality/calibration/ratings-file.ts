import { invalidArgument } from '../../protocol/errors.ts';
import { type FittedThreshold, fitThreshold, kendallTauB, pearson, spearman } from '../metrics.ts';

export type RatingRow = Record<string, unknown>;

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF) into objects keyed by the header row. */
export function parseCsv(text: string): RatingRow[] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      field = '';
      if (record.length > 1 || record[0] !== '') records.push(record);
      record = [];
    } else field += c;
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  const [header, ...rows] = records;
  if (!header) return [];
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h.trim(), r[i] ?? ''])));
}

/** JSON Lines (one object per line) or CSV, told apart by the first non-blank character. */
export function parseRatings(text: string, field = 'ratings'): RatingRow[] {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith('{')) return parseCsv(text);
  return text
    .split(/\r?\n/)
    .map((line, i) => [line.trim(), i] as const)
    .filter(([line]) => line.length > 0)
    .map(([line, i]) => {
      try {
        const value = JSON.parse(line) as unknown;
        if (typeof value !== 'object' || value === null || Array.isArray(value))
          throw new Error('not an object');
        return value as RatingRow;
      } catch (error) {
        throw invalidArgument(
          field,
          `${field}: line ${i + 1} is not a JSON object (${(error as Error).message})`,
        );
      }
    });
}

const YES = new Set(['yes', 'y', 'true', '1', 'approve', 'approved', 'pass', 'good']);
const NO = new Set(['no', 'n', 'false', '0', 'reject', 'rejected', 'fail', 'bad']);

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

function asVerdict(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  const s = String(v ?? '')
    .trim()
    .toLowerCase();
  if (YES.has(s)) return true;
  if (NO.has(s)) return false;
  return undefined;
}

export interface ColumnCalibration {
  column: string;
  n: number;
  spearman: number | null;
  kendallTauB: number | null;
  pearson: number | null;
  /** When the human column is a yes/no verdict: agreement at the threshold fitted on this file. */
  verdict?: FittedThreshold;
}

export interface FileCalibration {
  rows: number;
  human: string;
  humanKind: 'verdict' | 'rating';
  columns: ColumnCalibration[];
}

/** Scores each score column of a published human-rating set against its human column. */
export function calibrateFile(
  rows: readonly RatingRow[],
  human: string,
  scoreColumns: readonly string[],
): FileCalibration {
  if (scoreColumns.length === 0) throw invalidArgument('score', 'give at least one --score column');
  if (rows.length === 0) throw invalidArgument('ratings', 'the ratings file has no rows');
  if (!(human in rows[0]!))
    throw invalidArgument(
      'human',
      `column "${human}" is not in the file (columns: ${Object.keys(rows[0]!).join(', ')})`,
    );
  for (const c of scoreColumns)
    if (!(c in rows[0]!))
      throw invalidArgument(
        'score',
        `column "${c}" is not in the file (columns: ${Object.keys(rows[0]!).join(', ')})`,
      );
  const values = rows.map((r) => r[human]);
  const present = values.filter((v) => v !== '' && v !== null && v !== undefined);
  const verdictKind = present.length > 0 && present.every((v) => asVerdict(v) !== undefined);
  const columns = scoreColumns.map((column): ColumnCalibration => {
    const xs: number[] = [];
    const ys: number[] = [];
    const verdicts: boolean[] = [];
    for (const r of rows) {
      const x = asNumber(r[column]);
      if (x === undefined) continue;
      if (verdictKind) {
        const v = asVerdict(r[human]);
        if (v === undefined) continue;
        xs.push(x);
        ys.push(v ? 1 : 0);
        verdicts.push(v);
      } else {
        const y = asNumber(r[human]);
        if (y === undefined) continue;
        xs.push(x);
        ys.push(y);
      }
    }
    const out: ColumnCalibration = {
      column,
      n: xs.length,
      spearman: spearman(xs, ys),
      kendallTauB: kendallTauB(xs, ys),
      pearson: pearson(xs, ys),
    };
    if (verdictKind) {
      const fit = fitThreshold(xs, verdicts);
      if (fit) out.verdict = fit;
    }
    return out;
  });
  return { rows: rows.length, human, humanKind: verdictKind ? 'verdict' : 'rating', columns };
}
