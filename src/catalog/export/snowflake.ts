import { invalidArgument } from '../../protocol/errors.ts';
import type { Db, Queryable } from '../db.ts';
import { scrubSecrets } from '../scrub.ts';
import { copyIntoDdl, IMAGE_COLUMNS, pipeDdl, type SnowflakeNames, tableDdl } from './snowflake-ddl.ts';

/** Where batches land: the blob store's bucket, or anything with a put. */
export interface ExportSink {
  put(key: string, bytes: Uint8Array, contentType: string): Promise<void>;
}

export interface SnowflakeExportOptions {
  db: Db;
  sink: ExportSink;
  /** Key prefix in the bucket, e.g. `exports/snowflake`. Also names the cursor, so each prefix has its own. */
  prefix: string;
  batchSize: number;
  /** NDJSON only; Parquet is not implemented. */
  format: 'ndjson';
  /**
   * Rows younger than this are left for the next run: a transaction that began earlier may still commit
   * a row with an older created_at, which a cursor already past it would miss. Default 10 s.
   */
  settleMs?: number;
  /** Stop after this many batches (a run's bound); default unbounded until caught up. */
  maxBatches?: number;
  names?: Partial<SnowflakeNames>;
  now?: Date;
}

export interface ExportCursor {
  createdAt: Date;
  id: string;
}

export interface SnowflakeExportResult {
  batches: number;
  rows: number;
  /** The last exported position (null before anything was ever exported). */
  cursor: ExportCursor | null;
  /** Keys written by this run (batches, and the DDL on the first run). */
  keys: string[];
}

const DEFAULT_SETTLE_MS = 10_000;
const MAX_BATCH_SIZE = 100_000;

/**
 * Incremental export of image records as NDJSON batch files for Snowflake (COPY INTO / Snowpipe).
 * Rows are read in (created_at, id) order after the stored cursor; the cursor advances only after a batch
 * file is written, so a crash re-writes the same file (same name, same rows) and a rerun exports no row
 * twice. Batch names are deterministic for that reason.
 */
export async function exportToSnowflake(options: SnowflakeExportOptions): Promise<SnowflakeExportResult> {
  const { db, sink, batchSize } = options;
  if (options.format !== 'ndjson')
    throw invalidArgument('format', 'only ndjson is supported (Parquet is not)');
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw invalidArgument('batchSize', `must be an integer from 1 to ${MAX_BATCH_SIZE}`);
  }
  const prefix = options.prefix.replace(/^\/+|\/+$/g, '');
  if (prefix === '' || prefix.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw invalidArgument('prefix', 'must be a non-empty key prefix without empty, "." or ".." segments');
  }
  const target = `snowflake:${prefix}`;
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  const now = options.now ?? new Date();
  const upTo = new Date(now.getTime() - settleMs);
  const result: SnowflakeExportResult = { batches: 0, rows: 0, cursor: null, keys: [] };

  const cursor = await readCursor(db, target, false);
  if (cursor === undefined) {
    // First run for this prefix: land the DDL, then record the (empty) cursor. Rewriting the same DDL after
    // a crash between the two is harmless.
    const names = defaultNames(prefix, options.names);
    const encoder = new TextEncoder();
    for (const [name, sql] of [
      ['images.sql', tableDdl(names)],
      ['copy_into.sql', copyIntoDdl(names)],
      ['pipe.sql', pipeDdl(names)],
    ] as const) {
      const key = `${prefix}/ddl/${name}`;
      await sink.put(key, encoder.encode(sql), 'application/sql');
      result.keys.push(key);
    }
    await db.query('INSERT INTO export_cursors (target) VALUES ($1) ON CONFLICT (target) DO NOTHING', [
      target,
    ]);
  }
  result.cursor = cursor ?? null;

  const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
  while (result.batches < maxBatches) {
    // One transaction per batch with the cursor row locked: two exporters of the same prefix take turns,
    // and the second re-reads the cursor the first advanced instead of exporting the same rows.
    const written = await db.transaction(async (tx) => {
      const position = await readCursor(tx, target, true);
      const rows = await tx.query<Record<string, unknown>>(
        `SELECT * FROM images
         WHERE created_at < $1
           AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::text))
         ORDER BY created_at, id LIMIT $4`,
        [upTo, position?.createdAt ?? null, position?.id ?? null, batchSize],
      );
      if (rows.length === 0) return 0;
      const exportedAt = now.toISOString();
      const lines = rows.map((row) => JSON.stringify(toExportRow(row, exportedAt)));
      const first = rows[0]!;
      const last = rows.at(-1)!;
      const key = `${prefix}/images/${compactTime(new Date(first.created_at as Date))}-${String(first.id)}.ndjson`;
      await sink.put(key, new TextEncoder().encode(lines.join('\n') + '\n'), 'application/x-ndjson');
      const next = { createdAt: new Date(last.created_at as Date), id: String(last.id) };
      await tx.query(
        'UPDATE export_cursors SET cursor_created_at = $2, cursor_id = $3, updated_at = now() WHERE target = $1',
        [target, next.createdAt, next.id],
      );
      result.keys.push(key);
      result.cursor = next;
      return rows.length;
    });
    if (written === 0) break;
    result.batches++;
    result.rows += written;
    if (written < batchSize) break;
  }
  return result;
}

/** undefined: this target never ran; null: it ran but exported nothing yet. */
async function readCursor(
  db: Queryable,
  target: string,
  lock: boolean,
): Promise<ExportCursor | null | undefined> {
  const rows = await db.query<{ cursor_created_at: Date | null; cursor_id: string | null }>(
    `SELECT cursor_created_at, cursor_id FROM export_cursors WHERE target = $1${lock ? ' FOR UPDATE' : ''}`,
    [target],
  );
  const row = rows[0];
  if (!row) return undefined;
  if (row.cursor_created_at === null || row.cursor_id === null) return null;
  return { createdAt: new Date(row.cursor_created_at), id: row.cursor_id };
}

function defaultNames(prefix: string, names: Partial<SnowflakeNames> = {}): SnowflakeNames {
  return {
    table: names.table ?? 'PIXEL_IMAGES',
    stage: names.stage ?? 'PIXEL_IMAGES_STAGE',
    fileFormat: names.fileFormat ?? 'PIXEL_NDJSON',
    pipe: names.pipe ?? 'PIXEL_IMAGES_PIPE',
    stageUrl: names.stageUrl ?? `s3://<bucket>/${prefix}/images/`,
    storageIntegration: names.storageIntegration ?? '<storage_integration>',
  };
}

/** `20261130T120102345Z`: sortable and safe in any object key. */
function compactTime(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace('.', '');
}

const JSON_COLUMNS = new Set(['params', 'native_request', 'report', 'judge', 'review']);
const NUMERIC_COLUMNS = new Set([
  'app_version',
  'byte_size',
  'width',
  'height',
  'seed',
  'cost_usd',
  'latency_ms',
]);

/**
 * Only the declared columns leave the database (the idempotency key, and any column added later, stay
 * home until added to IMAGE_COLUMNS), and JSON documents and text are scrubbed of credentials.
 */
function toExportRow(row: Record<string, unknown>, exportedAt: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { name } of IMAGE_COLUMNS) {
    if (name === 'exported_at') {
      out[name] = exportedAt;
      continue;
    }
    const value = row[name];
    if (value === null || value === undefined) out[name] = null;
    else if (value instanceof Date) out[name] = value.toISOString();
    else if (NUMERIC_COLUMNS.has(name)) out[name] = Number(value);
    else if (JSON_COLUMNS.has(name) || typeof value === 'string') out[name] = scrubSecrets(value);
    else out[name] = value;
  }
  return out;
}
