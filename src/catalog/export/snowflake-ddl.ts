/** One exported column: its NDJSON field name (= Snowflake column, lower case) and Snowflake type. */
export interface ExportColumn {
  name: string;
  type: string;
}

/** The exported shape of an image record. Secrets never reach it (see snowflake.ts). */
export const IMAGE_COLUMNS: readonly ExportColumn[] = [
  { name: 'id', type: 'STRING NOT NULL' },
  { name: 'team', type: 'STRING' },
  { name: 'application', type: 'STRING' },
  { name: 'app_version', type: 'NUMBER(10,0)' },
  { name: 'model', type: 'STRING' },
  { name: 'route', type: 'STRING' },
  { name: 'provider', type: 'STRING' },
  { name: 'status', type: 'STRING' },
  { name: 'blob_key', type: 'STRING' },
  { name: 'sha256', type: 'STRING' },
  { name: 'byte_size', type: 'NUMBER(18,0)' },
  { name: 'media_type', type: 'STRING' },
  { name: 'width', type: 'NUMBER(10,0)' },
  { name: 'height', type: 'NUMBER(10,0)' },
  { name: 'prompt', type: 'STRING' },
  { name: 'negative_prompt', type: 'STRING' },
  { name: 'seed', type: 'NUMBER(20,0)' },
  { name: 'params', type: 'VARIANT' },
  { name: 'native_request', type: 'VARIANT' },
  { name: 'report', type: 'VARIANT' },
  { name: 'cost_usd', type: 'NUMBER(14,6)' },
  { name: 'latency_ms', type: 'NUMBER(10,0)' },
  { name: 'parent_id', type: 'STRING' },
  { name: 'judge', type: 'VARIANT' },
  { name: 'review', type: 'VARIANT' },
  { name: 'created_at', type: 'TIMESTAMP_TZ' },
  { name: 'deleted_at', type: 'TIMESTAMP_TZ' },
  /** The image's version: 1 when inserted, one more for each change (review, gate outcome, delete). */
  { name: 'version', type: 'NUMBER(10,0)' },
  { name: 'exported_at', type: 'TIMESTAMP_TZ' },
];

/** What a change row adds to the image's columns: which kind of change, and when it was made. */
export const CHANGE_COLUMNS: readonly ExportColumn[] = [
  { name: 'change', type: 'STRING' },
  { name: 'changed_at', type: 'TIMESTAMP_TZ' },
];

export interface SnowflakeNames {
  /** The images as they are now: one row per image id, kept up to date by the MERGE. */
  table: string;
  /** Every change as landed (append-only): what COPY INTO and the pipe load. */
  changesTable: string;
  /** The pipe path: a stream on the change table and a task that MERGEs what it holds. */
  stream: string;
  task: string;
  warehouse: string;
  stage: string;
  fileFormat: string;
  pipe: string;
  /** Where the NDJSON batches land, e.g. s3://bucket/prefix/images/ (a placeholder until set). */
  stageUrl: string;
  storageIntegration: string;
}

function castOf(column: ExportColumn): string {
  const base = column.type.replace(/ NOT NULL$/, '');
  return base === 'VARIANT' ? `$1:${column.name}` : `$1:${column.name}::${base}`;
}

const CHANGE_ROW: readonly ExportColumn[] = [...IMAGE_COLUMNS, ...CHANGE_COLUMNS];

/** SELECT … FROM @stage with `$1:field::TYPE` casts: works for COPY INTO and in a pipe alike. */
function copyStatement(names: SnowflakeNames): string {
  return [
    `COPY INTO ${names.changesTable} (${CHANGE_ROW.map((c) => c.name).join(', ')})`,
    '  FROM (',
    '    SELECT',
    CHANGE_ROW.map((c) => `      ${castOf(c)}`).join(',\n'),
    `    FROM @${names.stage}`,
    '  )',
    `  FILE_FORMAT = (FORMAT_NAME = '${names.fileFormat}')`,
    `  PATTERN = '.*[.]ndjson'`,
  ].join('\n');
}

/**
 * The newest version of each image in `source` (the change table, or a stream on it) MERGEd into the image
 * table. Only a newer version replaces a row, so loading a change twice, or out of order, changes nothing.
 */
function mergeStatement(names: SnowflakeNames, source: string): string {
  const columns = IMAGE_COLUMNS.map((c) => c.name);
  return [
    `MERGE INTO ${names.table} AS t`,
    '  USING (',
    `    SELECT ${columns.join(', ')}`,
    `    FROM ${source}`,
    '    QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY version DESC) = 1',
    '  ) AS s',
    '  ON t.id = s.id',
    '  WHEN MATCHED AND (t.version IS NULL OR s.version > t.version) THEN UPDATE SET',
    columns
      .filter((c) => c !== 'id')
      .map((c) => `    ${c} = s.${c}`)
      .join(',\n'),
    `  WHEN NOT MATCHED THEN INSERT (${columns.join(', ')})`,
    `    VALUES (${columns.map((c) => `s.${c}`).join(', ')})`,
  ].join('\n');
}

export function tableDdl(names: SnowflakeNames): string {
  const required = (c: ExportColumn) => (c.name === 'version' ? { ...c, type: 'NUMBER(10,0) NOT NULL' } : c);
  return [
    '-- Pixel image records as they are now: one row per image id, JSON documents as VARIANT.',
    `CREATE TABLE IF NOT EXISTS ${names.table} (`,
    IMAGE_COLUMNS.map((c) => `  ${c.name} ${c.type}`).join(',\n') + ',',
    '  PRIMARY KEY (id)',
    ');',
    '-- A table made before images carried versions gets the column (its rows count as older than any change).',
    `ALTER TABLE ${names.table} ADD COLUMN IF NOT EXISTS version NUMBER(10,0);`,
    '',
    '-- Every change of an image (insert, update, delete) as exported: the row after the change and its version.',
    `CREATE TABLE IF NOT EXISTS ${names.changesTable} (`,
    CHANGE_ROW.map((c) => `  ${required(c).name} ${required(c).type}`).join(',\n') + ',',
    '  PRIMARY KEY (id, version)',
    ');',
    '',
  ].join('\n');
}

export function copyIntoDdl(names: SnowflakeNames): string {
  return [
    '-- One-off or scheduled load of the landed NDJSON change batches, then merge.sql. COPY skips files it',
    '-- has already loaded.',
    `CREATE FILE FORMAT IF NOT EXISTS ${names.fileFormat} TYPE = JSON STRIP_OUTER_ARRAY = FALSE;`,
    '',
    '-- Replace the URL and storage integration with your bucket and integration.',
    `CREATE STAGE IF NOT EXISTS ${names.stage}`,
    `  URL = '${names.stageUrl}'`,
    `  STORAGE_INTEGRATION = ${names.storageIntegration}`,
    `  FILE_FORMAT = ${names.fileFormat};`,
    '',
    `${copyStatement(names)};`,
    '',
  ].join('\n');
}

export function mergeDdl(names: SnowflakeNames): string {
  return [
    `-- After COPY INTO: the newest version of every image in ${names.changesTable} into ${names.table}.`,
    '-- A deleted image keeps its row with status deleted and deleted_at set, as in the catalogue.',
    `${mergeStatement(names, names.changesTable)};`,
    '',
  ].join('\n');
}

export function pipeDdl(names: SnowflakeNames): string {
  return [
    '-- Continuous loading: Snowpipe picks up each new change batch from the bucket event notifications',
    '-- (SHOW PIPES gives the notification_channel to subscribe the bucket to) into the change table;',
    '-- a stream on that table and a task MERGE the new changes into the image table every minute.',
    `CREATE PIPE IF NOT EXISTS ${names.pipe}`,
    '  AUTO_INGEST = TRUE',
    '  AS',
    `${copyStatement(names)};`,
    '',
    `CREATE STREAM IF NOT EXISTS ${names.stream} ON TABLE ${names.changesTable} APPEND_ONLY = TRUE;`,
    '',
    `CREATE TASK IF NOT EXISTS ${names.task}`,
    `  WAREHOUSE = ${names.warehouse}`,
    "  SCHEDULE = '1 MINUTE'",
    `  WHEN SYSTEM$STREAM_HAS_DATA('${names.stream}')`,
    '  AS',
    `${mergeStatement(names, names.stream)};`,
    `ALTER TASK ${names.task} RESUME;`,
    '',
  ].join('\n');
}
