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
  { name: 'exported_at', type: 'TIMESTAMP_TZ' },
];

export interface SnowflakeNames {
  table: string;
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

/** SELECT … FROM @stage with `$1:field::TYPE` casts: works for COPY INTO and in a pipe alike. */
function copyStatement(names: SnowflakeNames, columns: readonly ExportColumn[]): string {
  return [
    `COPY INTO ${names.table} (${columns.map((c) => c.name).join(', ')})`,
    '  FROM (',
    '    SELECT',
    columns.map((c) => `      ${castOf(c)}`).join(',\n'),
    `    FROM @${names.stage}`,
    '  )',
    `  FILE_FORMAT = (FORMAT_NAME = '${names.fileFormat}')`,
    `  PATTERN = '.*[.]ndjson'`,
  ].join('\n');
}

export function tableDdl(names: SnowflakeNames, columns: readonly ExportColumn[] = IMAGE_COLUMNS): string {
  return [
    '-- Pixel image records. JSON documents are VARIANT; one row per image id.',
    `CREATE TABLE IF NOT EXISTS ${names.table} (`,
    columns.map((c) => `  ${c.name} ${c.type}`).join(',\n') + ',',
    '  PRIMARY KEY (id)',
    ');',
    '',
  ].join('\n');
}

export function copyIntoDdl(names: SnowflakeNames, columns: readonly ExportColumn[] = IMAGE_COLUMNS): string {
  return [
    '-- One-off or scheduled load of the landed NDJSON batches. COPY skips files it has already loaded.',
    `CREATE FILE FORMAT IF NOT EXISTS ${names.fileFormat} TYPE = JSON STRIP_OUTER_ARRAY = FALSE;`,
    '',
    '-- Replace the URL and storage integration with your bucket and integration.',
    `CREATE STAGE IF NOT EXISTS ${names.stage}`,
    `  URL = '${names.stageUrl}'`,
    `  STORAGE_INTEGRATION = ${names.storageIntegration}`,
    `  FILE_FORMAT = ${names.fileFormat};`,
    '',
    `${copyStatement(names, columns)};`,
    '',
  ].join('\n');
}

export function pipeDdl(names: SnowflakeNames, columns: readonly ExportColumn[] = IMAGE_COLUMNS): string {
  return [
    '-- Continuous loading: Snowpipe picks up each new batch from the bucket event notifications',
    '-- (SHOW PIPES gives the notification_channel to subscribe the bucket to).',
    `CREATE PIPE IF NOT EXISTS ${names.pipe}`,
    '  AUTO_INGEST = TRUE',
    '  AS',
    `${copyStatement(names, columns)};`,
    '',
  ].join('\n');
}
