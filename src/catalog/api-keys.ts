import { createHash, randomBytes } from 'node:crypto';
import { invalidArgument } from '../protocol/errors.ts';
import type { Db, Queryable } from './db.ts';
import { newId } from './ids.ts';

export type Role = 'admin' | 'member' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'member', 'viewer'];

export interface ApiKeyInfo {
  id: string;
  /** The first characters of the key, to tell keys apart in lists. */
  prefix: string;
  team: string;
  role: Role;
  name: string;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface VerifiedKey {
  id: string;
  team: string;
  role: Role;
}

export const BOOTSTRAP_TEAM = 'admin';
/** Names the bootstrap admin keys carry; no other key may take them (they tell team keys apart). */
const BOOTSTRAP_NAMES = ['bootstrap', 'bootstrap (PIXEL_ADMIN_KEY)'];
const KEY_PREFIX = 'pxl_';
const DISPLAY_PREFIX_LEN = KEY_PREFIX.length + 8;
const TEAM_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** last_used_at is refreshed at most once a minute per key, so verifying stays a read. */
const LAST_USED_RESOLUTION = '60 seconds';
/** Arbitrary constant advisory-lock key so two processes do not both create a bootstrap key. */
const BOOTSTRAP_LOCK_KEY = '8101841730918442305';

export function hashKey(plaintext: string): string {
  return createHash('sha256').update(plaintext, 'utf8').digest('hex');
}

export function validateTeam(team: unknown, field = 'team'): string {
  if (typeof team !== 'string' || !TEAM_RE.test(team)) {
    throw invalidArgument(field, 'must be 1-64 characters: lowercase letters, digits, ".", "_" or "-"');
  }
  return team;
}

type Row = Record<string, unknown>;

/**
 * Bumped by every revoke in this process: verified keys cached by any repo (the server's) are dropped
 * at once when a key is revoked here, whatever repo instance did it. Another process's revocation (the
 * `pixel keys revoke` CLI against the same database) takes effect when the cache entry expires.
 */
let revocations = 0;
/** Bound on cached verified keys; past it the cache starts over (a flood of distinct keys). */
const MAX_CACHED_KEYS = 10_000;

export interface ApiKeyRepoOptions {
  /**
   * Remember a verified key for this long (ms), keyed by its hash, instead of asking the catalogue on
   * every request. 0 (default) checks every time. Unknown and revoked keys are never cached.
   */
  verifyCacheMs?: number;
}

export class ApiKeyRepo {
  readonly #db: Db;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, { key: VerifiedKey; until: number; revocations: number }>();

  constructor(db: Db, options: ApiKeyRepoOptions = {}) {
    this.#db = db;
    this.#cacheMs = Math.max(0, options.verifyCacheMs ?? 0);
  }

  /** Creates a key. The plaintext is returned here once and never stored: only its sha256 is. */
  async createKey(input: {
    team: string;
    role: Role;
    name?: string;
  }): Promise<{ id: string; key: string; prefix: string }> {
    validateTeam(input.team);
    if (!ROLES.includes(input.role)) throw invalidArgument('role', `must be one of ${ROLES.join(', ')}`);
    const name = input.name ?? '';
    if (typeof name !== 'string' || name.length > 200)
      throw invalidArgument('name', 'must be at most 200 characters');
    if (BOOTSTRAP_NAMES.some((reserved) => reserved.toLowerCase() === name.trim().toLowerCase()))
      throw invalidArgument('name', `"${name}" is reserved for the bootstrap admin key`);
    const key = KEY_PREFIX + randomBytes(32).toString('base64url');
    return insertKey(this.#db, key, input.team, input.role, name);
  }

  /** The key's team and role, or undefined for an unknown or revoked key. */
  async verify(plaintext: string): Promise<VerifiedKey | undefined> {
    if (typeof plaintext !== 'string' || plaintext.length < 16 || plaintext.length > 512) return undefined;
    const hash = hashKey(plaintext);
    const cached = this.#cacheMs > 0 ? this.#cache.get(hash) : undefined;
    if (cached && cached.revocations === revocations && cached.until > performance.now()) {
      return { ...cached.key };
    }
    const seenRevocations = revocations;
    const rows = await this.#db.query<Row>(
      `SELECT id, team, role, (last_used_at IS NULL OR last_used_at < now() - interval '${LAST_USED_RESOLUTION}') AS stale
       FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
      [hash],
    );
    const row = rows[0];
    if (!row) {
      this.#cache.delete(hash);
      return undefined;
    }
    if (row.stale === true) {
      await this.#db.query('UPDATE api_keys SET last_used_at = now() WHERE id = $1', [row.id]);
    }
    const verified: VerifiedKey = { id: String(row.id), team: String(row.team), role: row.role as Role };
    // Not cached when a revoke ran meanwhile: the row read may predate it.
    if (this.#cacheMs > 0 && seenRevocations === revocations) {
      if (this.#cache.size >= MAX_CACHED_KEYS) this.#cache.clear();
      this.#cache.set(hash, {
        key: verified,
        until: performance.now() + this.#cacheMs,
        revocations,
      });
    }
    return { ...verified };
  }

  /**
   * True once any key other than a bootstrap admin key was ever created (revoked ones included): from
   * then on the embedded profile stops serving callers without a key.
   */
  async hasTeamKeys(): Promise<boolean> {
    const rows = await this.#db.query(
      `SELECT 1 FROM api_keys WHERE NOT (team = $1 AND role = 'admin' AND name IN ($2, $3)) LIMIT 1`,
      [BOOTSTRAP_TEAM, ...BOOTSTRAP_NAMES],
    );
    return rows.length > 0;
  }

  /** Key metadata; never the hash nor the key. */
  async list(options: { team?: string; includeRevoked?: boolean } = {}): Promise<ApiKeyInfo[]> {
    const rows = await this.#db.query<Row>(
      `SELECT id, prefix, team, role, name, created_at, revoked_at, last_used_at FROM api_keys
       WHERE ($1::text IS NULL OR team = $1) AND ($2::boolean OR revoked_at IS NULL)
       ORDER BY created_at, id`,
      [options.team ?? null, options.includeRevoked !== false],
    );
    return rows.map((r) => ({
      id: String(r.id),
      prefix: String(r.prefix),
      team: String(r.team),
      role: r.role as Role,
      name: String(r.name),
      createdAt: new Date(r.created_at as Date),
      revokedAt: r.revoked_at == null ? null : new Date(r.revoked_at as Date),
      lastUsedAt: r.last_used_at == null ? null : new Date(r.last_used_at as Date),
    }));
  }

  /** Revokes a key (team-scoped when given). False when no such active key. */
  async revoke(id: string, options: { team?: string } = {}): Promise<boolean> {
    // Before and after the update: a verify that overlaps it in any way does not cache what it read.
    revocations++;
    try {
      const rows = await this.#db.query(
        `UPDATE api_keys SET revoked_at = now()
         WHERE id = $1 AND ($2::text IS NULL OR team = $2) AND revoked_at IS NULL RETURNING id`,
        [id, options.team ?? null],
      );
      return rows.length > 0;
    } finally {
      revocations++;
    }
  }

  /**
   * With `envKey` (PIXEL_ADMIN_KEY): makes sure that key exists as an admin of team `admin`.
   * Without: when there is no key at all, creates one and returns its plaintext for the caller to print
   * once. `key` is present only when this call created a key the caller has not seen.
   */
  async ensureBootstrapAdmin(
    envKey?: string,
  ): Promise<{ id: string; created: boolean; key?: string; revoked?: boolean } | undefined> {
    if (envKey !== undefined && envKey !== '' && (envKey.length < 16 || envKey.length > 512)) {
      throw invalidArgument('PIXEL_ADMIN_KEY', 'must be 16 to 512 characters long');
    }
    return this.#db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [BOOTSTRAP_LOCK_KEY]);
      if (envKey) {
        const rows = await tx.query<Row>('SELECT id, revoked_at FROM api_keys WHERE key_hash = $1', [
          hashKey(envKey),
        ]);
        if (rows[0]) {
          // A revoked bootstrap key stays revoked: revocation is a deliberate act; the caller warns.
          return { id: String(rows[0].id), created: false, revoked: rows[0].revoked_at != null };
        }
        const created = await insertKey(tx, envKey, BOOTSTRAP_TEAM, 'admin', 'bootstrap (PIXEL_ADMIN_KEY)');
        return { id: created.id, created: true };
      }
      const any = await tx.query('SELECT 1 FROM api_keys LIMIT 1');
      if (any.length > 0) return undefined;
      const key = KEY_PREFIX + randomBytes(32).toString('base64url');
      const created = await insertKey(tx, key, BOOTSTRAP_TEAM, 'admin', 'bootstrap');
      return { id: created.id, created: true, key };
    });
  }
}

async function insertKey(
  db: Queryable,
  key: string,
  team: string,
  role: Role,
  name: string,
): Promise<{ id: string; key: string; prefix: string }> {
  const id = newId('key');
  // A generated key shows 8 of its 43 random characters; an operator-chosen one (maybe short) shows 4.
  const prefix =
    key.startsWith(KEY_PREFIX) && key.length >= 40 ? key.slice(0, DISPLAY_PREFIX_LEN) : `${key.slice(0, 4)}…`;
  await db.query(
    'INSERT INTO api_keys (id, key_hash, prefix, team, role, name) VALUES ($1, $2, $3, $4, $5, $6)',
    [id, hashKey(key), prefix, team, role, name],
  );
  return { id, key, prefix };
}
