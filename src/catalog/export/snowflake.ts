import { invalidArgument } from '../../protocol/errors.ts';
import type { Db, Queryable } from '../db.ts';
import { scrubSecrets } from '../scrub.ts';
import {
  CHANGE_COLUMNS,
  copyIntoDdl,
  IMAGE_COLUMNS,
  mergeDdl,
  pipeDdl,
  type SnowflakeNames,
  tableDdl,
} from './snowflake-ddl.ts';

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
  /** Stop after this many batches (a run's bound); default unbounded until caught up. */
  maxBatches?: number;
  names?: Partial<SnowflakeNames>;
  /** The export time written into each row's `exported_at` (default now). */
  now?: Date;
}

/** The last exported change: its transaction id (xid8, as text) and sequence number. */
export interface ExportCursor {
  xid: string;
  seq: number;
}

export interface SnowflakeExportResult {
  batches: number;
  /** Change rows exported (an image inserted then deleted is two). */
  rows: number;
  /** The last exported position (null before anything was ever exported). */
  cursor: ExportCursor | null;
  /** Keys written by this run (batches, and the DDL on the first run). */
  keys: string[];
}

const MAX_BATCH_SIZE = 100_000;

/**
 * Incremental export of image *changes* as NDJSON batch files for Snowflake: every insert, update (review,
 * gate outcome) and soft delete of an image is a change row with the image's version and the row as it was
 * after the change (migration 009 records them). The shipped SQL loads the files into a change table and
 * MERGEs the newest version of each image into the image table, so a deleted or re-reviewed image reaches
 * the warehouse.
 *
 * Exactly once per change: changes are read in (xid, seq) order after the stored cursor, and only those of
 * transactions older than the oldest one still running, so no change can commit later behind the cursor
 * (whatever the clocks say). The cursor advances in the transaction that wrote the batch file, after the
 * write; a crash in between re-writes the file under the same name (named by its first change), and the
 * MERGE's version check makes a change loaded twice harmless.
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
  const exportedAt = (options.now ?? new Date()).toISOString();
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
      ['merge.sql', mergeDdl(names)],
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
    // Taken before the batch's transaction (which gets an xid of its own once it locks the cursor): every
    // transaction below this horizon has committed or rolled back, so its changes are all visible now.
    const [{ horizon } = { horizon: '0' }] = await db.query<{ horizon: string }>(
      'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon',
    );
    // One transaction per batch with the cursor row locked: two exporters of the same prefix take turns,
    // and the second re-reads the cursor the first advanced instead of exporting the same changes.
    const written = await db.transaction(async (tx) => {
      const position = await readCursor(tx, target, true);
      const rows = await tx.query<ChangeRow>(
        `SELECT seq, xid::text AS xid, image_id, version, change, changed_at, row FROM image_changes
         WHERE xid < $1::xid8
           AND ($2::xid8 IS NULL OR (xid, seq) > ($2::xid8, $3::bigint))
         ORDER BY xid, seq LIMIT $4`,
        [horizon, position?.xid ?? null, position?.seq ?? null, batchSize],
      );
      if (rows.length === 0) return 0;
      const lines = rows.map((row) => JSON.stringify(toExportRow(row, exportedAt)));
      const first = rows[0]!;
      const last = rows.at(-1)!;
      const key = `${prefix}/changes/${pad(first.xid)}-${pad(String(first.seq))}.ndjson`;
      await sink.put(key, new TextEncoder().encode(lines.join('\n') + '\n'), 'application/x-ndjson');
      const next = { xid: last.xid, seq: Number(last.seq) };
      await tx.query(
        'UPDATE export_cursors SET change_xid = $2::xid8, change_seq = $3, updated_at = now() WHERE target = $1',
        [target, next.xid, next.seq],
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

interface ChangeRow {
  seq: number | string;
  xid: string;
  image_id: string;
  version: number;
  change: 'insert' | 'update' | 'delete';
  changed_at: Date | string;
  row: Record<string, unknown>;
}

/** Fixed width, so batch files sort in export order by name. */
const pad = (digits: string) => digits.padStart(20, '0');

/** undefined: this target never ran; null: it ran but exported nothing yet. */
async function readCursor(
  db: Queryable,
  target: string,
  lock: boolean,
): Promise<ExportCursor | null | undefined> {
  const rows = await db.query<{ change_xid: string | null; change_seq: number | string | null }>(
    `SELECT change_xid::text AS change_xid, change_seq FROM export_cursors WHERE target = $1${lock ? ' FOR UPDATE' : ''}`,
    [target],
  );
  const row = rows[0];
  if (!row) return undefined;
  if (row.change_xid === null || row.change_seq === null) return null;
  return { xid: row.change_xid, seq: Number(row.change_seq) };
}

function defaultNames(prefix: string, names: Partial<SnowflakeNames> = {}): SnowflakeNames {
  return {
    table: names.table ?? 'PIXEL_IMAGES',
    stage: names.stage ?? 'PIXEL_IMAGES_STAGE',
    fileFormat: names.fileFormat ?? 'PIXEL_NDJSON',
    pipe: names.pipe ?? 'PIXEL_IMAGES_PIPE',
    changesTable: names.changesTable ?? 'PIXEL_IMAGE_CHANGES',
    stream: names.stream ?? 'PIXEL_IMAGE_CHANGES_STREAM',
    task: names.task ?? 'PIXEL_IMAGES_MERGE_TASK',
    warehouse: names.warehouse ?? '<warehouse>',
    stageUrl: names.stageUrl ?? `s3://<bucket>/${prefix}/changes/`,
    storageIntegration: names.storageIntegration ?? '<storage_integration>',
  };
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
  'version',
]);

const TIME_COLUMNS = new Set(['created_at', 'deleted_at']);

/**
 * One change as an NDJSON line: the declared columns of the row after the change (the idempotency key, and
 * any column added later, stay home until added to IMAGE_COLUMNS), JSON documents and text scrubbed of
 * credentials, then the change's version, kind and time.
 */
function toExportRow(change: ChangeRow, exportedAt: string): Record<string, unknown> {
  const row = change.row;
  const out: Record<string, unknown> = {};
  for (const { name } of IMAGE_COLUMNS) {
    if (name === 'exported_at') {
      out[name] = exportedAt;
      continue;
    }
    const value = name === 'version' ? change.version : row[name];
    if (value === null || value === undefined) out[name] = null;
    else if (TIME_COLUMNS.has(name)) out[name] = new Date(String(value)).toISOString();
    else if (NUMERIC_COLUMNS.has(name)) out[name] = Number(value);
    else if (JSON_COLUMNS.has(name) || typeof value === 'string') out[name] = scrubSecrets(value);
    else out[name] = value;
  }
  for (const { name } of CHANGE_COLUMNS) {
    if (name === 'change') out[name] = change.change;
    else if (name === 'changed_at') out[name] = new Date(change.changed_at).toISOString();
  }
  return out;
}
