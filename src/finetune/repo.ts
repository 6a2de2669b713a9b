import type { Queryable } from '../catalog/db.ts';
import { newId } from '../catalog/ids.ts';
import { PixelError } from '../protocol/errors.ts';
import type { Finetune, FinetuneState } from './types.ts';

interface Row {
  id: string;
  team: string;
  name: string;
  version: number;
  dataset_id: string;
  category: string;
  base_model: string;
  backend: Finetune['backend'];
  trigger_token: string;
  class_noun: string;
  params: unknown;
  state: FinetuneState;
  progress: number;
  external: unknown;
  weights: unknown;
  evaluation: unknown;
  promoted: boolean;
  cancel_requested: boolean;
  error: string | null;
  created_ms: string | number;
  updated_ms: string | number;
}

const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

const fromRow = (r: Row): Finetune => ({
  id: r.id,
  team: r.team,
  name: r.name,
  version: Number(r.version),
  datasetId: r.dataset_id,
  category: r.category,
  baseModel: r.base_model,
  backend: r.backend,
  trigger: r.trigger_token,
  classNoun: r.class_noun,
  params: json(r.params),
  state: r.state,
  progress: Number(r.progress),
  external: json(r.external),
  weights: json(r.weights),
  evaluation: json(r.evaluation),
  promoted: r.promoted,
  cancelRequested: r.cancel_requested,
  error: r.error,
  createdMs: Number(r.created_ms),
  updatedMs: Number(r.updated_ms),
});

export type NewFinetune = Pick<
  Finetune,
  'team' | 'name' | 'datasetId' | 'category' | 'baseModel' | 'backend' | 'trigger' | 'classNoun' | 'params'
>;

/** The fine-tune jobs table: every version of every `ft/<name>`, its state and what it produced. */
export class FinetuneRepo {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  /** A new version of `name` (1 + the highest so far), queued. */
  async insert(input: NewFinetune, now: number): Promise<Finetune> {
    const rows = await this.#db.query<Row>(
      `INSERT INTO finetunes (id, team, name, version, dataset_id, category, base_model, backend, trigger_token,
         class_noun, params, state, created_ms, updated_ms)
       VALUES ($1, $2, $3, (SELECT COALESCE(MAX(version), 0) + 1 FROM finetunes WHERE name = $3), $4, $5, $6, $7,
         $8, $9, $10::jsonb, 'queued', $11, $11)
       RETURNING *`,
      [
        newId('ftj'),
        input.team,
        input.name,
        input.datasetId,
        input.category,
        input.baseModel,
        input.backend,
        input.trigger,
        input.classNoun,
        JSON.stringify(input.params),
        now,
      ],
    );
    return fromRow(rows[0]!);
  }

  async get(id: string): Promise<Finetune | undefined> {
    const rows = await this.#db.query<Row>('SELECT * FROM finetunes WHERE id = $1', [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async mustGet(id: string): Promise<Finetune> {
    const found = await this.get(id);
    if (!found) throw new PixelError({ code: 'not_found', field: 'id', message: `no fine-tune job ${id}` });
    return found;
  }

  async list(options: { team?: string; name?: string } = {}): Promise<Finetune[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.team !== undefined) {
      params.push(options.team);
      where.push(`team = $${params.length}`);
    }
    if (options.name !== undefined) {
      params.push(options.name);
      where.push(`name = $${params.length}`);
    }
    const rows = await this.#db.query<Row>(
      `SELECT * FROM finetunes ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_ms DESC, id DESC LIMIT 500`,
      params,
    );
    return rows.map(fromRow);
  }

  /** Jobs not yet finished (what a fine-tune worker puts back on the queue when it starts). */
  async unfinished(): Promise<Finetune[]> {
    const rows = await this.#db.query<Row>(
      `SELECT * FROM finetunes WHERE state IN ('queued', 'training', 'evaluating') ORDER BY created_ms, id`,
    );
    return rows.map(fromRow);
  }

  /** Versions inference can use: trained (being evaluated or done) with their weights. */
  async servable(): Promise<Finetune[]> {
    const rows = await this.#db.query<Row>(
      `SELECT * FROM finetunes WHERE weights IS NOT NULL AND state IN ('evaluating', 'succeeded') ORDER BY name, version`,
    );
    return rows.map(fromRow);
  }

  /**
   * Moves a job on, only from the state it was read in (a concurrent cancel or another runner wins):
   * returns the updated job, or undefined when the state had changed.
   */
  async advance(
    id: string,
    from: FinetuneState,
    patch: Partial<Pick<Finetune, 'state' | 'progress' | 'external' | 'weights' | 'evaluation' | 'error'>>,
    now: number,
  ): Promise<Finetune | undefined> {
    const sets: string[] = ['updated_ms = $3'];
    const params: unknown[] = [id, from, now];
    const add = (column: string, value: unknown, cast = '') => {
      params.push(value);
      sets.push(`${column} = $${params.length}${cast}`);
    };
    if (patch.state !== undefined) add('state', patch.state);
    if (patch.progress !== undefined) add('progress', patch.progress);
    if (patch.external !== undefined) add('external', JSON.stringify(patch.external), '::jsonb');
    if (patch.weights !== undefined) add('weights', JSON.stringify(patch.weights), '::jsonb');
    if (patch.evaluation !== undefined) add('evaluation', JSON.stringify(patch.evaluation), '::jsonb');
    if (patch.error !== undefined) add('error', patch.error);
    const rows = await this.#db.query<Row>(
      `UPDATE finetunes SET ${sets.join(', ')} WHERE id = $1 AND state = $2 RETURNING *`,
      params,
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /**
   * Takes the row's step lease for `owner` while the job is still in `state` and the lease is free, lapsed
   * or already `owner`'s: `{ taken: true }`, or who holds it until when.
   */
  async takeLease(
    id: string,
    state: FinetuneState,
    owner: string,
    now: number,
    untilMs: number,
  ): Promise<{ taken: true } | { taken: false; untilMs: number }> {
    const rows = await this.#db.query<{ id: string }>(
      `UPDATE finetunes SET lease_owner = $3, lease_until_ms = $5
       WHERE id = $1 AND state = $2 AND (lease_owner IS NULL OR lease_owner = $3 OR lease_until_ms < $4)
       RETURNING id`,
      [id, state, owner, now, untilMs],
    );
    if (rows.length > 0) return { taken: true };
    const held = await this.#db.query<{ lease_until_ms: string | number | null }>(
      'SELECT lease_until_ms FROM finetunes WHERE id = $1',
      [id],
    );
    return { taken: false, untilMs: Number(held[0]?.lease_until_ms ?? now) };
  }

  async renewLease(id: string, owner: string, untilMs: number): Promise<void> {
    await this.#db.query('UPDATE finetunes SET lease_until_ms = $3 WHERE id = $1 AND lease_owner = $2', [
      id,
      owner,
      untilMs,
    ]);
  }

  async releaseLease(id: string, owner: string): Promise<void> {
    await this.#db.query(
      'UPDATE finetunes SET lease_owner = NULL, lease_until_ms = NULL WHERE id = $1 AND lease_owner = $2',
      [id, owner],
    );
  }

  async requestCancel(id: string, now: number): Promise<Finetune | undefined> {
    const rows = await this.#db.query<Row>(
      `UPDATE finetunes SET cancel_requested = true, updated_ms = $2
       WHERE id = $1 AND state IN ('queued', 'training', 'evaluating') RETURNING *`,
      [id, now],
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** Makes this version the one `ft/<name>` serves (and no other version of the name). */
  async promote(
    db: { transaction<R>(fn: (tx: Queryable) => Promise<R>): Promise<R> },
    job: Finetune,
    now: number,
  ) {
    await db.transaction(async (tx) => {
      await tx.query('UPDATE finetunes SET promoted = false, updated_ms = $2 WHERE name = $1 AND promoted', [
        job.name,
        now,
      ]);
      await tx.query('UPDATE finetunes SET promoted = true, updated_ms = $2 WHERE id = $1', [job.id, now]);
    });
  }
}
