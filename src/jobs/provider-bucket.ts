import type { Queryable } from '../catalog/db.ts';
import type { Clock } from '../providers/reliability/clock.ts';

export interface BucketLimit {
  /** Requests per minute; 0 = no limit. */
  rpm: number;
  /** Bucket size; default one second's worth of rpm, at least 1. */
  burst?: number;
}

export type TakeResult = { taken: true } | { taken: false; waitMs: number };

/**
 * A requests-per-minute token bucket per provider kept in the database, so every worker process sharing
 * it draws from one bucket. One statement refills (by the time since the last take) and takes a token
 * under the row's lock. A provider's own wait (a 429's Retry-After) blocks the bucket for everyone.
 * Times are the injected clock's milliseconds; a clock that steps back never refills twice.
 */
export class ProviderBucket {
  readonly #db: Queryable;
  readonly #clock: Pick<Clock, 'now' | 'sleep'>;
  readonly #created = new Set<string>();
  readonly #queues = new Map<string, Promise<void>>();

  constructor(db: Queryable, clock: Pick<Clock, 'now' | 'sleep'>) {
    this.#db = db;
    this.#clock = clock;
  }

  async tryTake(provider: string, limit: BucketLimit): Promise<TakeResult> {
    const now = this.#clock.now();
    const capacity = capacityOf(limit);
    await this.#ensure(provider, capacity, now);
    const perMs = limit.rpm > 0 ? limit.rpm / 60_000 : Number.POSITIVE_INFINITY;
    const [row] = await this.#db.query<{ taken: boolean; avail: number; blocked_until_ms: string }>(
      `WITH b AS (
         SELECT provider, blocked_until_ms,
           LEAST($3::float8, tokens + GREATEST(0, $2::bigint - updated_ms) * $4::float8) AS avail
         FROM provider_buckets WHERE provider = $1 FOR UPDATE
       )
       UPDATE provider_buckets p
       SET tokens = b.avail - CASE WHEN b.avail >= 1 AND b.blocked_until_ms <= $2::bigint THEN 1 ELSE 0 END,
           updated_ms = GREATEST(p.updated_ms, $2::bigint)
       FROM b WHERE p.provider = b.provider
       RETURNING (b.avail >= 1 AND b.blocked_until_ms <= $2::bigint) AS taken, b.avail, b.blocked_until_ms`,
      [provider, now, capacity, Number.isFinite(perMs) ? perMs : 1e9],
    );
    if (!row) return { taken: true };
    if (row.taken) return { taken: true };
    const blockedFor = Number(row.blocked_until_ms) - now;
    const refill = Number.isFinite(perMs) ? (1 - Number(row.avail)) / perMs : 0;
    return { taken: false, waitMs: Math.max(1, Math.ceil(Math.max(blockedFor, refill))) };
  }

  /**
   * Takes a token, waiting (on the clock) as long as the bucket says, at most `maxWaits` times.
   * Returns false when it gave up (the caller retries the job later).
   */
  async take(
    provider: string,
    limit: BucketLimit,
    options: { maxWaits?: number; signal?: AbortSignal } = {},
  ) {
    if (limit.rpm <= 0) {
      // No rate limit, but a provider's own wait still holds.
      const blocked = await this.blockedFor(provider);
      if (blocked > 0) await this.#clock.sleep(blocked, options.signal);
      return true;
    }
    // One taker per provider at a time in this process (a FIFO): the others wait here instead of all
    // polling the shared row, so the database sees about one statement per token, whatever the concurrency.
    const previous = this.#queues.get(provider) ?? Promise.resolve();
    const { promise: turn, resolve: done } = Promise.withResolvers<void>();
    const mine = previous.then(() => turn);
    this.#queues.set(provider, mine);
    try {
      await previous;
      const maxWaits = options.maxWaits ?? 1_000;
      for (let i = 0; i < maxWaits; i++) {
        const result = await this.tryTake(provider, limit);
        if (result.taken) return true;
        await this.#clock.sleep(result.waitMs, options.signal);
      }
      return false;
    } finally {
      done();
      if (this.#queues.get(provider) === mine) this.#queues.delete(provider);
    }
  }

  /** The provider said to wait: nobody takes a token until then, and the bucket starts empty after. */
  async block(provider: string, untilMs: number): Promise<void> {
    await this.#ensure(provider, 1, this.#clock.now());
    await this.#db.query(
      `UPDATE provider_buckets SET blocked_until_ms = GREATEST(blocked_until_ms, $2::bigint),
         tokens = LEAST(tokens, 0), updated_ms = GREATEST(updated_ms, $2::bigint)
       WHERE provider = $1`,
      [provider, untilMs],
    );
  }

  async blockedFor(provider: string): Promise<number> {
    const rows = await this.#db.query<{ blocked_until_ms: string }>(
      'SELECT blocked_until_ms FROM provider_buckets WHERE provider = $1',
      [provider],
    );
    return rows[0] ? Math.max(0, Number(rows[0].blocked_until_ms) - this.#clock.now()) : 0;
  }

  async #ensure(provider: string, capacity: number, now: number): Promise<void> {
    if (this.#created.has(provider)) return;
    await this.#db.query(
      `INSERT INTO provider_buckets (provider, tokens, updated_ms) VALUES ($1, $2, $3)
       ON CONFLICT (provider) DO NOTHING`,
      [provider, capacity, now],
    );
    this.#created.add(provider);
  }
}

export function capacityOf(limit: BucketLimit): number {
  return Math.max(1, limit.burst ?? Math.ceil(limit.rpm / 60));
}
