import { randomUUID } from 'node:crypto';
import { invalidArgument } from '../protocol/errors.ts';
import type { Queryable } from './db.ts';

export type BeginResult =
  | { state: 'new' }
  | { state: 'replay'; response: unknown }
  | { state: 'in_progress' };

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
export const PENDING_TIMEOUT_MS = 15 * 60 * 1000;
/** How long a pending key stays its owner's without a renewal; renewed every third of it. */
export const LEASE_MS = 30 * 1000;
const MAX_KEY_LENGTH = 255;

/** This process, as the owner of the pending keys it runs (one value per process, not a secret). */
const PROCESS_OWNER = randomUUID();

export interface IdempotencyOptions {
  ttlMs?: number;
  pendingTimeoutMs?: number;
  /** Lease of a pending key; a retry takes the key over once its owner stopped renewing for this long. */
  leaseMs?: number;
  /** How often held leases are renewed (default leaseMs / 3); 0 = only when renewLeases() is called. */
  renewEveryMs?: number;
  /** Who runs the requests begun here (default: this process). */
  owner?: string;
  /** Lease time source (ms since the epoch); default Date.now. */
  clock?: { now(): number };
  /**
   * True when no other process can use this database (embedded PGlite, whose folder one process owns):
   * a pending key of any other owner is then a leftover of a process that is gone, taken over at once.
   * Default: true for a PGlite database.
   */
  exclusive?: boolean;
}

/**
 * Idempotency records, one per (team, key). A request first calls begin(): `new` means run it and then
 * complete() (or abandon() on failure so a retry may run); `replay` returns the stored response;
 * `in_progress` means the first attempt is still running. Expired records are replaced.
 */
export class IdempotencyStore {
  readonly #db: Queryable;
  readonly #ttlMs: number;
  readonly #pendingTimeoutMs: number;
  readonly #leaseMs: number;
  readonly #renewEveryMs: number;
  readonly #owner: string;
  readonly #clock: { now(): number };
  readonly #exclusive: boolean;
  /** Pending keys this store runs, `team\0key`, whose leases it renews. */
  readonly #held = new Map<string, { team: string; key: string }>();
  #renewTimer: NodeJS.Timeout | undefined;

  /**
   * `pendingTimeoutMs`: a pending record older than this may be taken over by a retry of the same request
   * whatever its lease (a safety net). `leaseMs`: the owner renews its pending keys; once a lease lapses
   * (the owner died) a retry takes the key over.
   */
  constructor(db: Queryable, options: IdempotencyOptions = {}) {
    this.#db = db;
    this.#ttlMs = options.ttlMs ?? IDEMPOTENCY_TTL_MS;
    this.#pendingTimeoutMs = options.pendingTimeoutMs ?? PENDING_TIMEOUT_MS;
    this.#leaseMs = options.leaseMs ?? LEASE_MS;
    this.#renewEveryMs = options.renewEveryMs ?? Math.max(1, Math.floor(this.#leaseMs / 3));
    this.#owner = options.owner ?? PROCESS_OWNER;
    this.#clock = options.clock ?? Date;
    this.#exclusive = options.exclusive ?? (db as { kind?: string }).kind === 'pglite';
  }

  async begin(input: { team: string; key: string; requestHash: string }): Promise<BeginResult> {
    validateKey(input.key);
    // Bounded: each pass either claims the key, or reads a row; a row vanishing in between (abandoned or
    // purged) sends us round again, and that cannot happen forever in practice.
    for (let attempt = 0; attempt < 5; attempt++) {
      // One statement decides the winner of concurrent begins: the unique (team, key) makes the losers
      // conflict; an expired row is taken over in place.
      const now = this.#clock.now();
      const claimed = await this.#db.query(
        `INSERT INTO idempotency (team, key, request_hash, state, created_at, expires_at, owner, lease_expires_at)
         VALUES ($1, $2, $3, 'pending', now(), now() + $4 * interval '1 millisecond', $6, $7::timestamptz)
         ON CONFLICT (team, key) DO UPDATE
           SET request_hash = EXCLUDED.request_hash, state = 'pending', response = NULL,
               created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
               owner = EXCLUDED.owner, lease_expires_at = EXCLUDED.lease_expires_at
           WHERE idempotency.expires_at <= now()
              OR (idempotency.state = 'pending' AND idempotency.request_hash = EXCLUDED.request_hash
                  AND (idempotency.created_at <= now() - $5 * interval '1 millisecond'
                       OR idempotency.lease_expires_at <= $8::timestamptz
                       OR ($9::boolean AND idempotency.owner IS DISTINCT FROM EXCLUDED.owner)))
         RETURNING key`,
        [
          input.team,
          input.key,
          input.requestHash,
          this.#ttlMs,
          this.#pendingTimeoutMs,
          this.#owner,
          new Date(now + this.#leaseMs).toISOString(),
          new Date(now).toISOString(),
          this.#exclusive,
        ],
      );
      if (claimed.length > 0) this.#hold(input.team, input.key);
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
    const done = await this.completeIn(this.#db, team, key, response);
    this.settled(team, key);
    return done;
  }

  /**
   * Stores the response to replay through `tx`, the transaction that also writes the request's results:
   * they commit together, or neither does. Fenced: only while this store still owns the pending key, so
   * an attempt whose key was taken over (its lease lapsed) or finished by another attempt gets false and
   * must roll its results back. Call settled() once the transaction is over.
   */
  async completeIn(tx: Queryable, team: string, key: string, response: unknown): Promise<boolean> {
    const rows = await tx.query(
      `UPDATE idempotency SET state = 'done', response = $3::jsonb, lease_expires_at = NULL
       WHERE team = $1 AND key = $2 AND state = 'pending' AND owner IS NOT DISTINCT FROM $4 RETURNING key`,
      [team, key, JSON.stringify(response ?? null), this.#owner],
    );
    return rows.length > 0;
  }

  /** This store no longer runs `key` (completed through completeIn, or given up): its lease is not renewed. */
  settled(team: string, key: string): void {
    this.#release(team, key);
  }

  /** The attempt failed: forget it, so a retry with the same key runs again. */
  async abandon(team: string, key: string): Promise<void> {
    this.#release(team, key);
    await this.#db.query(
      `DELETE FROM idempotency WHERE team = $1 AND key = $2 AND state = 'pending' AND owner IS NOT DISTINCT FROM $3`,
      [team, key, this.#owner],
    );
  }

  /** Extends the lease of every pending key this store runs; returns how many are still held. */
  async renewLeases(): Promise<number> {
    const until = new Date(this.#clock.now() + this.#leaseMs).toISOString();
    let renewed = 0;
    for (const [id, { team, key }] of [...this.#held]) {
      const rows = await this.#db.query(
        `UPDATE idempotency SET lease_expires_at = $4::timestamptz
         WHERE team = $1 AND key = $2 AND owner = $3 AND state = 'pending' RETURNING key`,
        [team, key, this.#owner, until],
      );
      // Taken over (our lease had lapsed) or finished elsewhere: not ours to renew any more.
      if (rows.length === 0) this.#held.delete(id);
      else renewed++;
    }
    if (this.#held.size === 0) this.#stopRenewing();
    return renewed;
  }

  #hold(team: string, key: string): void {
    this.#held.set(`${team}\u0000${key}`, { team, key });
    if (this.#renewTimer === undefined && this.#renewEveryMs > 0) {
      this.#renewTimer = setInterval(() => {
        this.renewLeases().catch(() => {
          // The database is away: the lease lapses and a retry may take over, which is the safe side.
        });
      }, this.#renewEveryMs);
      this.#renewTimer.unref();
    }
  }

  #release(team: string, key: string): void {
    this.#held.delete(`${team}\u0000${key}`);
    if (this.#held.size === 0) this.#stopRenewing();
  }

  #stopRenewing(): void {
    if (this.#renewTimer !== undefined) clearInterval(this.#renewTimer);
    this.#renewTimer = undefined;
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
