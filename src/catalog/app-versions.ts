import { basename } from 'node:path';
import type { LoadedApp } from '../apps/load.ts';
import {
  type Actor,
  actorName,
  assertCanCreateVersion,
  assertCanMoveLabel,
  teamLabel,
  validateLabel,
} from '../apps/permissions.ts';
import { type AppProfile, AppProfileSchema } from '../apps/schema.ts';
import type {
  ApplicationVersions,
  AppSummary,
  AuditEntry,
  LabelRecord,
  ResolvedVia,
  ResolveVersionOptions,
  VersionRecord,
} from '../apps/versions.ts';
import { suggest } from '../models/suggest.ts';
import { invalidArgument, PixelError } from '../protocol/errors.ts';
import type { Db, Queryable } from './db.ts';

const FILE_ACTOR = 'system:file-loader';
/** How many earlier versions a label remembers for rollback. */
const HISTORY_MAX = 50;

type Row = Record<string, unknown>;

/**
 * Application versions, labels and audit in the catalogue DB. Every write runs in one transaction
 * that first locks the application's row, so concurrent edits are serialised (each gets its own
 * version number) and a label move never interleaves with another.
 */
export class AppVersionRepo implements ApplicationVersions {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /**
   * Loads a file default as a version unless the newest file-sourced version has the same content
   * hash. It never moves a label, so edits published under `production` or a team label stay in force.
   */
  async loadFile(app: LoadedApp): Promise<{ version: number; created: boolean }> {
    const name = app.profile.name;
    return this.#db.transaction(async (tx) => {
      await lockApplication(tx, name);
      const [latest] = await tx.query<Row>(
        `SELECT version, content_hash FROM app_versions WHERE application = $1 AND source = 'file'
         ORDER BY version DESC LIMIT 1`,
        [name],
      );
      if (latest && latest.content_hash === app.contentHash)
        return { version: Number(latest.version), created: false };
      const version = await insertVersion(tx, {
        profile: app.profile,
        contentHash: app.contentHash,
        source: 'file',
        sourceFile: basename(app.file),
        baseVersion: latest ? Number(latest.version) : null,
        author: FILE_ACTOR,
        authorTeam: null,
        message: `loaded from ${basename(app.file)}`,
      });
      await audit(tx, {
        application: name,
        action: 'load',
        actor: FILE_ACTOR,
        version,
        message: `loaded from ${basename(app.file)}`,
      });
      return { version, created: true };
    });
  }

  /** A new immutable version (an edit), optionally published under a label in the same transaction. */
  async createVersion(
    app: LoadedApp,
    actor: Actor,
    options: { label?: string; message?: string; baseVersion?: number } = {},
  ): Promise<{ version: number; label?: string }> {
    const name = app.profile.name;
    const label = options.label === undefined ? undefined : validateLabel(options.label);
    assertCanCreateVersion(actor, label);
    const message = (options.message ?? '').trim().slice(0, 2000);
    return this.#db.transaction(async (tx) => {
      const existed = await lockApplication(tx, name);
      if (!existed && actor.role !== 'admin') {
        throw new PixelError({
          code: 'permission_denied',
          reason: 'role',
          message: `creating application ${name} needs the admin role`,
        });
      }
      if (options.baseVersion !== undefined)
        await requireVersion(tx, name, options.baseVersion, 'baseVersion');
      const version = await insertVersion(tx, {
        profile: app.profile,
        contentHash: app.contentHash,
        source: 'edit',
        sourceFile: null,
        baseVersion: options.baseVersion ?? null,
        author: actorName(actor),
        authorTeam: actor.team,
        message,
      });
      await audit(tx, {
        application: name,
        action: 'create',
        actor: actorName(actor),
        actorTeam: actor.team,
        actorRole: actor.role,
        version,
        message,
      });
      if (label !== undefined) await moveLabel(tx, name, label, version, actor, 'label', message);
      return label === undefined ? { version } : { version, label };
    });
  }

  /** Points `label` at `version` (the previous target is remembered for rollback). */
  async setLabel(
    application: string,
    label: string,
    version: number,
    actor: Actor,
    message = '',
  ): Promise<{ previous: number | null }> {
    validateLabel(label);
    assertCanMoveLabel(actor, label);
    return this.#db.transaction(async (tx) => {
      await requireApplication(tx, application);
      await requireVersion(tx, application, version, 'version');
      return moveLabel(tx, application, label, version, actor, 'label', message);
    });
  }

  /**
   * Moves a label back: to `to` when given, else to the version it pointed at before its last move.
   * Rolling back twice goes two steps back.
   */
  async rollback(
    application: string,
    label: string,
    actor: Actor,
    to?: number,
  ): Promise<{ from: number; to: number }> {
    validateLabel(label);
    assertCanMoveLabel(actor, label);
    return this.#db.transaction(async (tx) => {
      await requireApplication(tx, application);
      const [row] = await tx.query<Row>(
        'SELECT version, history FROM app_labels WHERE application = $1 AND label = $2 FOR UPDATE',
        [application, label],
      );
      if (!row)
        throw new PixelError({
          code: 'not_found',
          field: 'label',
          message: `application ${application} has no label "${label}"`,
        });
      const from = Number(row.version);
      const history = (row.history as number[]).map(Number);
      let target: number;
      let rest: number[];
      if (to !== undefined) {
        await requireVersion(tx, application, to, 'to');
        target = to;
        const at = history.lastIndexOf(to);
        // Back to a version in its history: forget what came after it. Elsewhere: a plain move.
        rest = at >= 0 ? history.slice(0, at) : [...history, from].slice(-HISTORY_MAX);
      } else {
        if (history.length === 0) {
          throw new PixelError({
            code: 'failed_precondition',
            field: 'label',
            reason: 'no_history',
            message: `label "${label}" of ${application} has no earlier version to roll back to; name one with --to`,
          });
        }
        target = history[history.length - 1]!;
        rest = history.slice(0, -1);
      }
      await tx.query(
        `UPDATE app_labels SET version = $3, history = $4::integer[], updated_by = $5, updated_at = now()
         WHERE application = $1 AND label = $2`,
        [application, label, target, rest, actorName(actor)],
      );
      await audit(tx, {
        application,
        action: 'rollback',
        actor: actorName(actor),
        actorTeam: actor.team,
        actorRole: actor.role,
        version: target,
        label,
        previousVersion: from,
        message: `rolled ${label} back from v${from} to v${target}`,
      });
      return { from, to: target };
    });
  }

  async exists(application: string): Promise<boolean> {
    const rows = await this.#db.query('SELECT 1 FROM applications WHERE name = $1', [application]);
    return rows.length > 0;
  }

  async getVersion(application: string, version: number): Promise<VersionRecord | undefined> {
    const [row] = await this.#db.query<Row>(
      'SELECT * FROM app_versions WHERE application = $1 AND version = $2',
      [application, version],
    );
    return row ? toVersion(row) : undefined;
  }

  /** Every version, newest first. */
  async versions(application: string): Promise<VersionRecord[]> {
    const rows = await this.#db.query<Row>(
      'SELECT * FROM app_versions WHERE application = $1 ORDER BY version DESC',
      [application],
    );
    return rows.map(toVersion);
  }

  async labels(application: string): Promise<LabelRecord[]> {
    const rows = await this.#db.query<Row>('SELECT * FROM app_labels WHERE application = $1 ORDER BY label', [
      application,
    ]);
    return rows.map((row) => ({
      label: String(row.label),
      version: Number(row.version),
      history: (row.history as number[]).map(Number),
      updatedBy: String(row.updated_by),
      updatedAt: new Date(row.updated_at as string),
    }));
  }

  async audit(application: string, limit = 100): Promise<AuditEntry[]> {
    const rows = await this.#db.query<Row>(
      'SELECT * FROM app_audit WHERE application = $1 ORDER BY id DESC LIMIT $2',
      [application, Math.max(1, Math.min(1000, limit))],
    );
    return rows.map((row) => ({
      id: Number(row.id),
      application: String(row.application),
      action: row.action as AuditEntry['action'],
      actor: String(row.actor),
      actorTeam: (row.actor_team as string | null) ?? null,
      actorRole: (row.actor_role as string | null) ?? null,
      version: row.version == null ? null : Number(row.version),
      label: (row.label as string | null) ?? null,
      previousVersion: row.previous_version == null ? null : Number(row.previous_version),
      message: String(row.message),
      createdAt: new Date(row.created_at as string),
    }));
  }

  async list(): Promise<AppSummary[]> {
    const apps = await this.#db.query<Row>(
      `SELECT a.name,
              (SELECT max(version) FROM app_versions v WHERE v.application = a.name) AS latest,
              (SELECT max(version) FROM app_versions v WHERE v.application = a.name AND v.source = 'file') AS file_default,
              (SELECT v.profile->>'title' FROM app_versions v WHERE v.application = a.name ORDER BY v.version DESC LIMIT 1) AS title
       FROM applications a ORDER BY a.name`,
    );
    const labels = await this.#db.query<Row>(
      'SELECT application, label, version FROM app_labels ORDER BY application, label',
    );
    return apps
      .filter((row) => row.latest != null)
      .map((row) => ({
        name: String(row.name),
        title: String(row.title ?? row.name),
        latestVersion: Number(row.latest),
        defaultVersion: row.file_default == null ? null : Number(row.file_default),
        labels: Object.fromEntries(
          labels.filter((l) => l.application === row.name).map((l) => [String(l.label), Number(l.version)]),
        ),
      }));
  }

  /**
   * The version to use. With `version` or `label`, exactly that (an unknown label is an error, never
   * a silent fallback). Otherwise the resolution order: `team:<team>`, then `production`, then the
   * file default (the newest file-loaded version; for an application created through the API, its
   * newest version).
   */
  async resolveVersion(
    application: string,
    options: ResolveVersionOptions = {},
  ): Promise<{ record: VersionRecord; via: ResolvedVia }> {
    if (options.label !== undefined && options.version !== undefined) {
      throw invalidArgument('appLabel', 'give appLabel or appVersion, not both');
    }
    if (!(await this.exists(application))) throw await this.#unknownApplication(application);
    if (options.version !== undefined) {
      const record = await this.getVersion(application, options.version);
      if (!record)
        throw new PixelError({
          code: 'not_found',
          field: 'appVersion',
          message: `application ${application} has no version ${options.version}`,
        });
      return { record, via: 'version' };
    }
    if (options.label !== undefined) {
      const record = await this.#byLabel(application, options.label);
      if (!record) {
        const known = (await this.labels(application)).map((l) => l.label);
        const list = ['latest', 'default', ...known].join(', ');
        throw new PixelError({
          code: 'not_found',
          field: 'appLabel',
          message: `application ${application} has no label "${options.label}" (labels: ${list})`,
        });
      }
      return { record, via: `label:${options.label}` };
    }
    const wanted = options.team !== undefined ? [teamLabel(options.team), 'production'] : ['production'];
    const rows = await this.#db.query<Row>(
      'SELECT label, version FROM app_labels WHERE application = $1 AND label = ANY($2::text[])',
      [application, wanted],
    );
    for (const label of wanted) {
      const row = rows.find((r) => r.label === label);
      if (row)
        return {
          record: (await this.getVersion(application, Number(row.version)))!,
          via: label as ResolvedVia,
        };
    }
    return { record: (await this.#byLabel(application, 'default'))!, via: 'default' };
  }

  async #byLabel(application: string, label: string): Promise<VersionRecord | undefined> {
    let sql: string;
    if (label === 'latest')
      sql = 'SELECT * FROM app_versions WHERE application = $1 ORDER BY version DESC LIMIT 1';
    else if (label === 'default') {
      sql = `SELECT * FROM app_versions WHERE application = $1 ORDER BY (source = 'file') DESC, version DESC LIMIT 1`;
    } else {
      const [row] = await this.#db.query<Row>(
        `SELECT v.* FROM app_labels l JOIN app_versions v ON v.application = l.application AND v.version = l.version
         WHERE l.application = $1 AND l.label = $2`,
        [application, label],
      );
      return row ? toVersion(row) : undefined;
    }
    const [row] = await this.#db.query<Row>(sql, [application]);
    return row ? toVersion(row) : undefined;
  }

  async #unknownApplication(application: string): Promise<PixelError> {
    const names = (await this.#db.query<Row>('SELECT name FROM applications')).map((r) => String(r.name));
    const hint = suggest(application, names);
    return new PixelError({
      code: 'not_found',
      field: 'app',
      reason: 'unknown_application',
      message: `unknown application "${application}"${hint.length > 0 ? `; did you mean ${hint.join(', ')}?` : ''} (pixel apps list shows them)`,
    });
  }
}

/** Creates the application's row when needed and locks it for the rest of the transaction. Returns whether it existed. */
async function lockApplication(tx: Queryable, name: string): Promise<boolean> {
  const inserted = await tx.query(
    'INSERT INTO applications (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING name',
    [name],
  );
  await tx.query('SELECT name FROM applications WHERE name = $1 FOR UPDATE', [name]);
  return inserted.length === 0;
}

async function requireApplication(tx: Queryable, name: string): Promise<void> {
  const rows = await tx.query('SELECT name FROM applications WHERE name = $1 FOR UPDATE', [name]);
  if (rows.length === 0)
    throw new PixelError({
      code: 'not_found',
      field: 'app',
      reason: 'unknown_application',
      message: `unknown application "${name}"`,
    });
}

async function requireVersion(
  tx: Queryable,
  application: string,
  version: number,
  field: string,
): Promise<void> {
  if (!Number.isInteger(version) || version < 1)
    throw invalidArgument(field, `${field} must be a version number (1, 2, …)`);
  const rows = await tx.query('SELECT 1 FROM app_versions WHERE application = $1 AND version = $2', [
    application,
    version,
  ]);
  if (rows.length === 0)
    throw new PixelError({
      code: 'not_found',
      field,
      message: `application ${application} has no version ${version}`,
    });
}

interface NewVersion {
  profile: AppProfile;
  contentHash: string;
  source: 'file' | 'edit';
  sourceFile: string | null;
  baseVersion: number | null;
  author: string;
  authorTeam: string | null;
  message: string;
}

async function insertVersion(tx: Queryable, v: NewVersion): Promise<number> {
  // The row lock taken by lockApplication makes this increment the serialisation point.
  const [row] = await tx.query<Row>(
    'UPDATE applications SET next_version = next_version + 1 WHERE name = $1 RETURNING next_version - 1 AS version',
    [v.profile.name],
  );
  const version = Number(row!.version);
  await tx.query(
    `INSERT INTO app_versions (application, version, profile, content_hash, source, source_file, base_version, author, author_team, message)
     VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10)`,
    [
      v.profile.name,
      version,
      JSON.stringify(v.profile),
      v.contentHash,
      v.source,
      v.sourceFile,
      v.baseVersion,
      v.author,
      v.authorTeam,
      v.message,
    ],
  );
  return version;
}

async function moveLabel(
  tx: Queryable,
  application: string,
  label: string,
  version: number,
  actor: Actor,
  action: 'label' | 'rollback',
  message: string,
): Promise<{ previous: number | null }> {
  const [row] = await tx.query<Row>(
    'SELECT version, history FROM app_labels WHERE application = $1 AND label = $2 FOR UPDATE',
    [application, label],
  );
  const previous = row ? Number(row.version) : null;
  if (previous === version) return { previous };
  const history = row ? [...(row.history as number[]).map(Number), previous!].slice(-HISTORY_MAX) : [];
  await tx.query(
    `INSERT INTO app_labels (application, label, version, history, updated_by) VALUES ($1, $2, $3, $4::integer[], $5)
     ON CONFLICT (application, label) DO UPDATE SET version = EXCLUDED.version, history = EXCLUDED.history,
       updated_by = EXCLUDED.updated_by, updated_at = now()`,
    [application, label, version, history, actorName(actor)],
  );
  await audit(tx, {
    application,
    action,
    actor: actorName(actor),
    actorTeam: actor.team,
    actorRole: actor.role,
    version,
    label,
    previousVersion: previous,
    message:
      message || (previous === null ? `${label} → v${version}` : `${label} v${previous} → v${version}`),
  });
  return { previous };
}

async function audit(
  tx: Queryable,
  entry: {
    application: string;
    action: AuditEntry['action'];
    actor: string;
    actorTeam?: string;
    actorRole?: string;
    version?: number;
    label?: string;
    previousVersion?: number | null;
    message?: string;
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO app_audit (application, action, actor, actor_team, actor_role, version, label, previous_version, message)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      entry.application,
      entry.action,
      entry.actor,
      entry.actorTeam ?? null,
      entry.actorRole ?? null,
      entry.version ?? null,
      entry.label ?? null,
      entry.previousVersion ?? null,
      entry.message ?? '',
    ],
  );
}

function toVersion(row: Row): VersionRecord {
  const raw = typeof row.profile === 'string' ? JSON.parse(row.profile) : row.profile;
  return {
    application: String(row.application),
    version: Number(row.version),
    // jsonb keeps keys sorted its own way; re-parsing restores the schema's field order for YAML output.
    profile: AppProfileSchema.parse(raw),
    contentHash: String(row.content_hash),
    source: row.source as 'file' | 'edit',
    sourceFile: (row.source_file as string | null) ?? null,
    baseVersion: row.base_version == null ? null : Number(row.base_version),
    author: String(row.author),
    authorTeam: (row.author_team as string | null) ?? null,
    message: String(row.message),
    createdAt: new Date(row.created_at as string),
  };
}
