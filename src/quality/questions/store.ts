import { createHash } from 'node:crypto';
import type { Actor } from '../../apps/permissions.ts';
import type { Queryable } from '../../catalog/db.ts';
import { PixelError } from '../../protocol/errors.ts';
import type { Question } from '../types.ts';
import { validateQuestions } from './validate.ts';

/** The item's identity: its variables as canonical JSON (keys sorted), hashed. */
export function itemKey(vars: Record<string, string>): string {
  const canonical = JSON.stringify(
    Object.fromEntries(Object.entries(vars).sort(([a], [b]) => (a < b ? -1 : 1))),
  );
  return createHash('sha256').update(canonical).digest('hex');
}

export interface StoredQuestionSet {
  app: string;
  appVersion: number;
  itemKey: string;
  vars: Record<string, string>;
  questions: Question[];
  writer: string;
  editedBy?: string;
  updatedAt: Date;
}

type Row = Record<string, unknown>;

function fromRow(row: Row): StoredQuestionSet {
  return {
    app: String(row.application),
    appVersion: Number(row.app_version),
    itemKey: String(row.item_key),
    vars: (typeof row.vars === 'string' ? JSON.parse(row.vars) : row.vars) as Record<string, string>,
    questions: (typeof row.questions === 'string' ? JSON.parse(row.questions) : row.questions) as Question[],
    writer: String(row.writer),
    ...(row.edited_by ? { editedBy: String(row.edited_by) } : {}),
    updatedAt: new Date(String(row.updated_at)),
  };
}

/** Question sets cached in the catalogue, one per application version and item. */
export class QuestionStore {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  async get(
    app: string,
    appVersion: number,
    vars: Record<string, string>,
  ): Promise<StoredQuestionSet | undefined> {
    const [row] = await this.#db.query<Row>(
      'SELECT * FROM quality_questions WHERE application = $1 AND app_version = $2 AND item_key = $3',
      [app, appVersion, itemKey(vars)],
    );
    return row ? fromRow(row) : undefined;
  }

  /** Stores a written set unless one is there already (a team edit is never overwritten); returns the set in force. */
  async putIfAbsent(
    app: string,
    appVersion: number,
    vars: Record<string, string>,
    questions: Question[],
    writer: string,
  ): Promise<StoredQuestionSet> {
    await this.#db.query(
      `INSERT INTO quality_questions (application, app_version, item_key, vars, questions, writer)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [app, appVersion, itemKey(vars), JSON.stringify(vars), JSON.stringify(questions), writer],
    );
    return (await this.get(app, appVersion, vars))!;
  }

  /**
   * A team's edit of an item's questions: admins and members may edit, viewers may not. The set
   * is validated as a whole; edited questions are marked `team` unless they kept a rubric id.
   */
  async edit(
    actor: Actor,
    app: string,
    appVersion: number,
    vars: Record<string, string>,
    questions: unknown,
  ): Promise<StoredQuestionSet> {
    if (actor.role === 'viewer')
      throw new PixelError({
        code: 'permission_denied',
        reason: 'role',
        message: 'viewers may read question sets but not edit them',
      });
    const valid = validateQuestions(questions);
    const name = actor.name ?? actor.keyId ?? `${actor.role}@${actor.team}`;
    await this.#db.query(
      `INSERT INTO quality_questions (application, app_version, item_key, vars, questions, writer, edited_by, edited_team)
       VALUES ($1, $2, $3, $4, $5, 'team', $6, $7)
       ON CONFLICT (application, app_version, item_key) DO UPDATE
       SET questions = EXCLUDED.questions, writer = 'team', edited_by = EXCLUDED.edited_by,
           edited_team = EXCLUDED.edited_team, updated_at = now()`,
      [app, appVersion, itemKey(vars), JSON.stringify(vars), JSON.stringify(valid), name, actor.team],
    );
    return (await this.get(app, appVersion, vars))!;
  }
}
