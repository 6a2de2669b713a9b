import type { DatasetItem, ParsedDataset } from '../datasets/parse.ts';
import { invalidArgument, PixelError } from '../protocol/errors.ts';
import type { Db } from './db.ts';
import { newUlid } from './ids.ts';

export interface DatasetRecord {
  id: string;
  team: string;
  name: string;
  source: string;
  format: 'csv' | 'jsonl';
  itemCount: number;
  rejectedCount: number;
  createdAt: Date;
}

export interface StoredItem extends DatasetItem {
  idx: number;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** Rows per INSERT when storing items. */
const CHUNK = 500;

/** Datasets and their items in the catalogue. */
export class DatasetRepo {
  readonly #db: Db;
  constructor(db: Db) {
    this.#db = db;
  }

  async create(input: {
    team: string;
    name: string;
    source: string;
    parsed: ParsedDataset;
  }): Promise<DatasetRecord> {
    if (!NAME.test(input.name)) {
      throw invalidArgument(
        'name',
        `a dataset name must match ${NAME.source}, got "${input.name.slice(0, 64)}"`,
      );
    }
    if (input.parsed.items.length === 0) {
      throw invalidArgument('file', 'the file has no good rows: nothing to import');
    }
    const id = `ds_${newUlid()}`;
    const { items, rejected, format } = input.parsed;
    return this.#db.transaction(async (tx) => {
      const existing = await tx.query('SELECT 1 FROM datasets WHERE team = $1 AND name = $2', [
        input.team,
        input.name,
      ]);
      if (existing.length > 0) {
        throw new PixelError({
          code: 'already_exists',
          field: 'name',
          message: `team ${input.team} already has a dataset named ${input.name}`,
        });
      }
      const [row] = await tx.query<DatasetRow>(
        `INSERT INTO datasets (id, team, name, source, format, item_count, rejected_count)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
        [id, input.team, input.name, input.source, format, items.length, rejected.length],
      );
      for (let start = 0; start < items.length; start += CHUNK) {
        const chunk = items.slice(start, start + CHUNK);
        const values: unknown[] = [];
        const tuples = chunk.map((item, i) => {
          values.push(id, start + i, item.line, item.externalId, item.category, JSON.stringify(item.vars));
          const b = i * 6;
          return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}::jsonb)`;
        });
        await tx.query(
          `INSERT INTO dataset_items (dataset_id, idx, line, external_id, category, vars) VALUES ${tuples.join(', ')}`,
          values,
        );
      }
      return toRecord(row!);
    });
  }

  async list(team?: string): Promise<DatasetRecord[]> {
    const rows = await this.#db.query<DatasetRow>(
      team === undefined
        ? 'SELECT * FROM datasets ORDER BY created_at DESC, id DESC'
        : 'SELECT * FROM datasets WHERE team = $1 ORDER BY created_at DESC, id DESC',
      team === undefined ? [] : [team],
    );
    return rows.map(toRecord);
  }

  /** By id (`ds_…`) or by the team's name for it. */
  async get(idOrName: string, team?: string): Promise<DatasetRecord> {
    const rows = idOrName.startsWith('ds_')
      ? await this.#db.query<DatasetRow>('SELECT * FROM datasets WHERE id = $1', [idOrName])
      : await this.#db.query<DatasetRow>(
          team === undefined
            ? 'SELECT * FROM datasets WHERE name = $1 ORDER BY created_at DESC'
            : 'SELECT * FROM datasets WHERE name = $1 AND team = $2',
          team === undefined ? [idOrName] : [idOrName, team],
        );
    const row = rows[0];
    if (!row || (team !== undefined && row.team !== team)) {
      throw new PixelError({ code: 'not_found', field: 'dataset', message: `dataset ${idOrName} not found` });
    }
    return toRecord(row);
  }

  async items(datasetId: string, options: { offset?: number; limit?: number } = {}): Promise<StoredItem[]> {
    const rows = await this.#db.query<ItemRow>(
      'SELECT * FROM dataset_items WHERE dataset_id = $1 ORDER BY idx OFFSET $2 LIMIT $3',
      [datasetId, options.offset ?? 0, options.limit ?? 1_000_000],
    );
    return rows.map(toItem);
  }

  async itemsAt(datasetId: string, indexes: number[]): Promise<StoredItem[]> {
    if (indexes.length === 0) return [];
    const rows = await this.#db.query<ItemRow>(
      'SELECT * FROM dataset_items WHERE dataset_id = $1 AND idx = ANY($2::int[]) ORDER BY idx',
      [datasetId, indexes],
    );
    return rows.map(toItem);
  }
}

interface DatasetRow {
  id: string;
  team: string;
  name: string;
  source: string;
  format: 'csv' | 'jsonl';
  item_count: number;
  rejected_count: number;
  created_at: Date | string;
}

interface ItemRow {
  idx: number;
  line: number;
  external_id: string | null;
  category: string | null;
  vars: Record<string, string> | string;
}

function toRecord(row: DatasetRow): DatasetRecord {
  return {
    id: row.id,
    team: row.team,
    name: row.name,
    source: row.source,
    format: row.format,
    itemCount: Number(row.item_count),
    rejectedCount: Number(row.rejected_count),
    createdAt: new Date(row.created_at),
  };
}

function toItem(row: ItemRow): StoredItem {
  return {
    idx: Number(row.idx),
    line: Number(row.line),
    externalId: row.external_id,
    category: row.category,
    vars: typeof row.vars === 'string' ? JSON.parse(row.vars) : row.vars,
  };
}
