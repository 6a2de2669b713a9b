import { invalidArgument, PixelError } from '../protocol/errors.ts';
import { redactRegistered } from '../protocol/secrets.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import type { Queryable } from './db.ts';
import { isImageId, newImageId } from './ids.ts';
import { scrubSecrets } from './scrub.ts';

/** `rejected`: kept but failed the quality gate; `deleted`: soft-deleted, its blob may be swept. */
export type ImageStatus = 'stored' | 'rejected' | 'deleted';
export const IMAGE_STATUSES: readonly ImageStatus[] = ['stored', 'rejected', 'deleted'];

/** One catalogue row, as the service returns it (the URL is derived from blobKey by the blob store). */
export interface ImageRecord {
  id: string;
  team: string;
  application: string | null;
  appVersion: number | null;
  /** The model as requested (alias, `provider/model`, `ft/<name>`). */
  model: string;
  /** The catalogue model id actually used. */
  route: string;
  provider: string;
  status: ImageStatus;
  blobKey: string;
  sha256: string;
  byteSize: number;
  mediaType: string;
  width: number;
  height: number;
  prompt: string;
  negativePrompt: string | null;
  seed: number | null;
  params: Record<string, unknown>;
  nativeRequest: unknown;
  report: unknown;
  costUsd: number | null;
  latencyMs: number | null;
  parentId: string | null;
  judge: unknown;
  review: unknown;
  idempotencyKey: string | null;
  createdAt: Date;
  deletedAt: Date | null;
}

type Optional = 'id' | 'status' | 'createdAt' | 'deletedAt' | NullableKeys;
type NullableKeys = {
  [K in keyof ImageRecord]: null extends ImageRecord[K] ? K : never;
}[keyof ImageRecord];

/** What insert takes: required facts plus optional ones; `id` and `createdAt` are generated when absent. */
export type NewImageRecord = Omit<ImageRecord, Optional | 'params'> & {
  id?: string;
  status?: Exclude<ImageStatus, 'deleted'>;
  createdAt?: Date;
  params?: Record<string, unknown>;
} & { [K in NullableKeys]?: ImageRecord[K] };

export interface ListImagesOptions {
  team?: string;
  application?: string;
  /** Matches the requested model or the route taken. */
  model?: string;
  /** Default: every status except `deleted`. */
  status?: ImageStatus;
  /** Inclusive lower bound on created_at. */
  createdAfter?: Date;
  /** Exclusive upper bound on created_at. */
  createdBefore?: Date;
  /** Case-insensitive substring of the prompt. */
  promptContains?: string;
  /** true: only images a person accepted; false: only those nobody accepted. */
  accepted?: boolean;
  /** Only the children of this image. */
  parentId?: string;
  limit: number;
  cursor?: string;
}

export interface ListImagesResult {
  images: ImageRecord[];
  /** Absent on the last page. */
  nextCursor?: string;
}

export const MAX_LIST_LIMIT = 1000;

const COLUMNS = `id, team, application, app_version, model, route, provider, status, blob_key, sha256,
  byte_size, media_type, width, height, prompt, negative_prompt, seed, params, native_request, report,
  cost_usd, latency_ms, parent_id, judge, review, idempotency_key, created_at, deleted_at`;

type Row = Record<string, unknown>;

export class ImageRepo {
  readonly #db: Queryable;

  /** `db` may be a Db or the `tx` of a transaction. */
  constructor(db: Queryable) {
    this.#db = db;
  }

  async insert(record: NewImageRecord): Promise<ImageRecord> {
    const { id, params } = prepareInsert(record);
    const rows = await this.#db.query<Row>(`${INSERT_SQL} VALUES ${placeholders(0)} RETURNING ${COLUMNS}`, [
      ...params,
    ]);
    if (rows[0]?.id !== id) throw new PixelError({ code: 'internal', message: 'the insert returned no row' });
    return toRecord(rows[0]);
  }

  /**
   * Several rows in one INSERT statement: all of them are written or none (one statement is atomic
   * without an explicit transaction). The records come back built from what was sent, as `get` would
   * read them, without reading every column back; only `cost_usd` (rounded by its numeric column) is.
   */
  async insertMany(records: readonly NewImageRecord[]): Promise<ImageRecord[]> {
    if (records.length === 0) return [];
    const prepared = records.map(prepareInsert);
    const values = prepared.map((_, i) => placeholders(i * INSERT_PARAMS));
    const rows = await this.#db.query<Row>(
      `${INSERT_SQL} VALUES ${values.join(', ')} RETURNING id, cost_usd`,
      prepared.flatMap((p) => p.params),
    );
    const cost = new Map(rows.map((r) => [String(r.id), num(r.cost_usd)]));
    return prepared.map((p) => {
      if (!cost.has(p.id)) throw new PixelError({ code: 'internal', message: `row ${p.id} was not written` });
      return { ...p.record, costUsd: cost.get(p.id)! };
    });
  }

  /** Team-scoped when `team` is given: another team's image is not found. Deleted images only on request. */
  async get(
    id: string,
    options: { team?: string; includeDeleted?: boolean } = {},
  ): Promise<ImageRecord | undefined> {
    if (!isImageId(id)) return undefined;
    const rows = await this.#db.query<Row>(
      `SELECT ${COLUMNS} FROM images
       WHERE id = $1 AND ($2::text IS NULL OR team = $2) AND ($3::boolean OR deleted_at IS NULL)`,
      [id, options.team ?? null, options.includeDeleted === true],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /**
   * Newest first, by (created_at, id) descending. The cursor is the last row's position, so rows inserted
   * while a caller pages (all newer) neither repeat nor shift later pages.
   */
  async list(options: ListImagesOptions): Promise<ListImagesResult> {
    const { limit } = options;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw invalidArgument('limit', `must be an integer from 1 to ${MAX_LIST_LIMIT}`);
    }
    if (options.status !== undefined && !IMAGE_STATUSES.includes(options.status)) {
      throw invalidArgument('status', `must be one of ${IMAGE_STATUSES.join(', ')}`);
    }
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (options.team !== undefined) add((p) => `team = ${p}`, options.team);
    if (options.application !== undefined) add((p) => `application = ${p}`, options.application);
    if (options.model !== undefined) add((p) => `(model = ${p} OR route = ${p})`, options.model);
    if (options.status !== undefined) add((p) => `status = ${p}`, options.status);
    else where.push(`status <> 'deleted'`);
    if (options.createdAfter !== undefined)
      add((p) => `created_at >= ${p}`, validDate(options.createdAfter, 'createdAfter'));
    if (options.createdBefore !== undefined)
      add((p) => `created_at < ${p}`, validDate(options.createdBefore, 'createdBefore'));
    if (options.promptContains !== undefined && options.promptContains !== '')
      add((p) => `strpos(lower(prompt), lower(${p})) > 0`, options.promptContains);
    if (options.parentId !== undefined) add((p) => `parent_id = ${p}`, options.parentId);
    if (options.accepted !== undefined)
      where.push(options.accepted ? `review ? 'accepted'` : `(review IS NULL OR NOT review ? 'accepted')`);
    if (options.cursor !== undefined) {
      const position = decodeCursor(options.cursor);
      params.push(position.createdAt, position.id);
      where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::text)`);
    }
    params.push(limit + 1);
    const rows = await this.#db.query<Row>(
      `SELECT ${COLUMNS} FROM images WHERE ${where.join(' AND ')}
       ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const images = rows.slice(0, limit).map(toRecord);
    const last = images.at(-1);
    return rows.length > limit && last ? { images, nextCursor: encodeCursor(last) } : { images };
  }

  /**
   * Soft delete: status `deleted`. The row keeps its blob key, but no longer counts as a live reference,
   * so the sweeper removes the blob once no other live row shares it. Returns false when not found.
   */
  async delete(id: string, options: { team?: string }): Promise<boolean> {
    if (!isImageId(id)) return false;
    const rows = await this.#db.query(
      `UPDATE images SET status = 'deleted', deleted_at = date_trunc('milliseconds', now())
       WHERE id = $1 AND ($2::text IS NULL OR team = $2) AND deleted_at IS NULL RETURNING id`,
      [id, options.team ?? null],
    );
    return rows.length > 0;
  }

  /** Records the quality gate's answers, a human verdict, or a gate outcome on an existing live row. */
  async updateEvaluation(
    id: string,
    patch: { judge?: unknown; review?: unknown; status?: Exclude<ImageStatus, 'deleted'> },
  ): Promise<ImageRecord | undefined> {
    if (patch.status !== undefined && patch.status !== 'stored' && patch.status !== 'rejected') {
      throw invalidArgument('status', 'must be stored or rejected');
    }
    const json = (value: unknown) => (value === undefined ? null : JSON.stringify(scrubSecrets(value)));
    const rows = await this.#db.query<Row>(
      `UPDATE images SET judge = COALESCE($2::jsonb, judge), review = COALESCE($3::jsonb, review),
         status = COALESCE($4, status)
       WHERE id = $1 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
      [id, json(patch.judge), json(patch.review), patch.status ?? null],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /**
   * Records that a person accepted a live image: `review.accepted = { by, at }`, merged into whatever else
   * the review column holds. Accepting again keeps the first acceptance. Team-scoped when `team` is given.
   */
  async accept(id: string, options: { team?: string; by: string }): Promise<ImageRecord | undefined> {
    if (!isImageId(id)) return undefined;
    const rows = await this.#db.query<Row>(
      `UPDATE images SET review = CASE WHEN review ? 'accepted' THEN review
         ELSE COALESCE(review, '{}'::jsonb) || jsonb_build_object('accepted',
           jsonb_build_object('by', $3::text, 'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
         END
       WHERE id = $1 AND ($2::text IS NULL OR team = $2) AND deleted_at IS NULL RETURNING ${COLUMNS}`,
      [id, options.team ?? null, options.by],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async isBlobReferenced(key: string): Promise<boolean> {
    return (await this.referencedBlobKeys([key])).has(key);
  }

  /** The subset of `keys` that at least one live (not deleted) row references. */
  async referencedBlobKeys(keys: readonly string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = await this.#db.query<{ blob_key: string }>(
      'SELECT DISTINCT blob_key FROM images WHERE blob_key = ANY($1::text[]) AND deleted_at IS NULL',
      [keys],
    );
    return new Set(rows.map((r) => r.blob_key));
  }
}

const INSERT_SQL = `INSERT INTO images (id, team, application, app_version, model, route, provider, status,
  blob_key, sha256, byte_size, media_type, width, height, prompt, negative_prompt, seed, params, native_request,
  report, cost_usd, latency_ms, parent_id, judge, review, idempotency_key, created_at)`;
const INSERT_PARAMS = 27;
/** Parameters 18–20 and 24–25 (1-based) are JSON documents. */
const JSONB_PARAMS = new Set([18, 19, 20, 24, 25]);

/** `($n+1, …, $n+27)` for one row whose parameters start after `offset`. */
function placeholders(offset: number): string {
  const list: string[] = [];
  for (let i = 1; i <= INSERT_PARAMS; i++) list.push(`$${offset + i}${JSONB_PARAMS.has(i) ? '::jsonb' : ''}`);
  return `(${list.join(', ')})`;
}

/**
 * Validates a new row and returns its statement parameters, plus the record as the catalogue will hold
 * it: JSON fields scrubbed of secrets and round-tripped through JSON (what reading them back gives).
 */
function prepareInsert(record: NewImageRecord): { id: string; params: unknown[]; record: ImageRecord } {
  const id = record.id ?? newImageId();
  if (!isImageId(id)) throw invalidArgument('id', `"${id}" is not an image id (img_ + 26 base32 characters)`);
  requireText(record.team, 'team');
  requireText(record.model, 'model');
  requireText(record.route, 'route');
  requireText(record.provider, 'provider');
  requireText(record.blobKey, 'blobKey');
  if (!/^[0-9a-f]{64}$/.test(record.sha256))
    throw invalidArgument('sha256', 'must be 64 lowercase hex digits');
  for (const field of ['byteSize', 'width', 'height'] as const) {
    if (!Number.isInteger(record[field]) || record[field] < 0) {
      throw invalidArgument(field, 'must be a non-negative integer');
    }
  }
  if (record.parentId != null && !isImageId(record.parentId)) {
    throw invalidArgument('parentId', 'must be an image id');
  }
  const json = (value: unknown) => (value == null ? null : JSON.stringify(scrubSecrets(value)));
  const parsed = (text: string | null): unknown => (text === null ? null : JSON.parse(text));
  const params = json(record.params ?? {});
  const nativeRequest = json(record.nativeRequest);
  const report = json(record.report);
  const judge = json(record.judge);
  const review = json(record.review);
  // Milliseconds only: the column and cursors must agree exactly with JavaScript Dates.
  const createdAt = new Date(Math.floor((record.createdAt ?? new Date()).getTime()));
  const status = record.status ?? 'stored';
  // A configured credential pasted into a prompt is not kept either (by value only: prompts are free text).
  const prompt = redactRegistered(record.prompt);
  const negativePrompt = record.negativePrompt == null ? null : redactRegistered(record.negativePrompt);
  return {
    id,
    params: [
      id,
      record.team,
      record.application ?? null,
      record.appVersion ?? null,
      record.model,
      record.route,
      record.provider,
      status,
      record.blobKey,
      record.sha256,
      record.byteSize,
      record.mediaType,
      record.width,
      record.height,
      prompt,
      negativePrompt,
      record.seed ?? null,
      params,
      nativeRequest,
      report,
      record.costUsd ?? null,
      record.latencyMs ?? null,
      record.parentId ?? null,
      judge,
      review,
      record.idempotencyKey ?? null,
      createdAt,
    ],
    record: {
      id,
      team: record.team,
      application: record.application ?? null,
      appVersion: record.appVersion ?? null,
      model: record.model,
      route: record.route,
      provider: record.provider,
      status,
      blobKey: record.blobKey,
      sha256: record.sha256,
      byteSize: record.byteSize,
      mediaType: record.mediaType,
      width: record.width,
      height: record.height,
      prompt,
      negativePrompt,
      seed: record.seed ?? null,
      params: (parsed(params) ?? {}) as Record<string, unknown>,
      nativeRequest: parsed(nativeRequest),
      report: parsed(report),
      costUsd: record.costUsd ?? null,
      latencyMs: record.latencyMs ?? null,
      parentId: record.parentId ?? null,
      judge: parsed(judge),
      review: parsed(review),
      idempotencyKey: record.idempotencyKey ?? null,
      createdAt,
      deletedAt: null,
    },
  };
}

function requireText(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.length === 0)
    throw invalidArgument(field, 'must be a non-empty string');
}

function validDate(value: Date, field: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw invalidArgument(field, 'must be a valid date');
  return value;
}

/** When a person accepted the image (see `accept`), or null. */
export function acceptedAt(record: Pick<ImageRecord, 'review'>): Date | null {
  const review = record.review as { accepted?: { at?: unknown } } | null;
  const at = review?.accepted?.at;
  if (typeof at !== 'string') return null;
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? null : date;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** Both drivers return the same shapes except int8/numeric (string in pg, number in PGlite): normalise. */
function toRecord(row: Row): ImageRecord {
  return {
    id: String(row.id),
    team: String(row.team),
    application: str(row.application),
    appVersion: num(row.app_version),
    model: String(row.model),
    route: String(row.route),
    provider: String(row.provider),
    status: row.status as ImageStatus,
    blobKey: String(row.blob_key),
    sha256: String(row.sha256),
    byteSize: Number(row.byte_size),
    mediaType: String(row.media_type),
    width: Number(row.width),
    height: Number(row.height),
    prompt: String(row.prompt),
    negativePrompt: str(row.negative_prompt),
    seed: num(row.seed),
    params: (row.params ?? {}) as Record<string, unknown>,
    nativeRequest: row.native_request ?? null,
    report: row.report ?? null,
    costUsd: num(row.cost_usd),
    latencyMs: num(row.latency_ms),
    parentId: str(row.parent_id),
    judge: row.judge ?? null,
    review: row.review ?? null,
    idempotencyKey: str(row.idempotency_key),
    createdAt: new Date(row.created_at as Date),
    deletedAt: row.deleted_at == null ? null : new Date(row.deleted_at as Date),
  };
}
