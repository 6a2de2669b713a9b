import { invalidArgument } from '../protocol/errors.ts';
import type { Queryable } from './db.ts';

export type BeginResult =
  | { state: 'new' }
  | { state: 'replay'; response: unknown }
  | { state: 'in_progress' };

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
export const PENDING_TIMEOUT_MS = 15 * 60 * 1000;
const MAX_KEY_LENGTH = 255;

/**
 * Idempotency records, one per (team, key). A request first calls begin(): `new` means run it and then
 * complete() (or abandon() on failure so a retry may run); `replay` returns the stored response;
 * `in_progress` means the first attempt is still running. Expired records are replaced.
 */
export class IdempotencyStore {
  readonly #db: Queryable;
  readonly #ttlMs: number;
  readonly #pendingTimeoutMs: number;

  /**
   * `pendingTimeoutMs`: a pending record older than this (its process died without complete/abandon)
   * may be taken over by a retry of the same request.
   */
  constructor(db: Queryable, options: { ttlMs?: number; pendingTimeoutMs?: number } = {}) {
    this.#db = db;
    this.#ttlMs = options.ttlMs ?? IDEMPOTENCY_TTL_MS;
    this.#pendingTimeoutMs = options.pendingTimeoutMs ?? PENDING_TIMEOUT_MS;
  }

  async begin(input: { team: string; key: string; requestHash: string }): Promise<BeginResult> {
    validateKey(input.key);
    // Bounded: each pass either claims the key, or reads a row; a row vanishing in between (abandoned or
    // purged) sends us round again, and that cannot happen forever in practice.
    for (let attempt = 0; attempt < 5; attempt++) {
      // One statement decides the winner of concurrent begins: the unique (team, key) makes the losers
      // conflict; an expired row is taken over in place.
      const claimed = await this.#db.query(
        `INSERT INTO idempotency (team, key, request_hash, state, created_at, expires_at)
         VALUES ($1, $2, $3, 'pending', now(), now() + $4 * interval '1 millisecond')
         ON CONFLICT (team, key) DO UPDATE
           SET request_hash = EXCLUDED.request_hash, state = 'pending', response = NULL,
               created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
           WHERE idempotency.expires_at <= now()
              OR (idempotency.state = 'pending' AND idempotency.request_hash = EXCLUDED.request_hash
                  AND idempotency.created_at <= now() - $5 * interval '1 millisecond')
         RETURNING key`,
        [input.team, input.key, input.requestHash, this.#ttlMs, this.#pendingTimeoutMs],
      );
      if (claimed.length > 0) return { state: 'new' };
      const rows = await this.#db.query<{ request_hash: string; state: string; response: unknown }>(
        'SELECT request_hash, state, response FROM idempotency WHERE team = $1 AND key = $2 AND expires_at > now()',
        [input.team, input.key],
      );
      const row = rows[0];
      if (!row) continue;
      if (row.request_hash !== input.requestHash) {
        throw invalidArgument(
          'idempotency_key',
          'this idempotency key was already used with a different request body',
          'idempotency_mismatch',
        );
      }
      return row.state === 'done' ? { state: 'replay', response: row.response } : { state: 'in_progress' };
    }
    return { state: 'in_progress' };
  }

  /** Stores the response to replay. False when there was no pending record (expired or abandoned). */
  async complete(team: string, key: string, response: unknown): Promise<boolean> {
    const rows = await this.#db.query(
      `UPDATE idempotency SET state = 'done', response = $3::jsonb
       WHERE team = $1 AND key = $2 AND state = 'pending' RETURNING key`,
      [team, key, JSON.stringify(response ?? null)],
    );
    return rows.length > 0;
  }

  /** The attempt failed: forget it, so a retry with the same key runs again. */
  async abandon(team: string, key: string): Promise<void> {
    await this.#db.query(`DELETE FROM idempotency WHERE team = $1 AND key = $2 AND state = 'pending'`, [
      team,
      key,
    ]);
  }

  /** Deletes expired records; returns how many. */
  async purgeExpired(): Promise<number> {
    const rows = await this.#db.query('DELETE FROM idempotency WHERE expires_at <= now() RETURNING key');
    return rows.length;
  }
}

function validateKey(key: unknown): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw invalidArgument('idempotency_key', `must be 1 to ${MAX_KEY_LENGTH} characters`);
  }
  if (/[\u0000-\u001f\u007f]/.test(key))
    throw invalidArgument('idempotency_key', 'must not contain control characters');
}
