import { randomUUID } from 'node:crypto';
import type { Queryable } from '../catalog/db.ts';
import type { Clock } from '../providers/reliability/clock.ts';

/** A slot this worker holds: give it back with `release` once the provider call is over. */
export interface SlotHold {
  provider: string;
  slot: number;
  release(): Promise<void>;
}

export interface ProviderSlotsOptions {
  /** This worker, as the holder of its slots. */
  owner: string;
  /** How long a slot stays this worker's without a renewal (a dead worker's slots come free after it). */
  leaseMs: number;
  /** Longest wait between two looks at a full provider (ms); a slot given back in this process wakes at once. */
  maxPollMs?: number;
}

/**
 * Per-provider concurrency across every worker sharing the database: a counting semaphore of `limit` slot
 * rows per provider. Taking a slot is one UPDATE of a free row (no owner, or a lapsed lease) picked under
 * FOR UPDATE SKIP LOCKED: two workers taking at the same instant lock different rows, and a row another
 * worker took since this statement's snapshot is re-checked under its lock and passed over. So at most
 * `limit` holders exist at any time, whatever the number of workers or how their fetches interleave; a
 * holder that dies stops renewing and its slot is free once the lease lapses.
 */
export class ProviderSlots {
  readonly #db: Queryable;
  readonly #clock: Pick<Clock, 'now' | 'sleep'>;
  readonly #owner: string;
  readonly #leaseMs: number;
  readonly #maxPollMs: number;
  /** Slot rows known to exist: provider → highest count ensured. */
  readonly #ensured = new Map<string, number>();
  /** Waiters in this process, woken when a slot of their provider is given back here. */
  readonly #waiters = new Map<string, Set<() => void>>();
  /** Slots held by this process, by hold tag (the `holder` written on the row, unique per hold). */
  readonly #held = new Map<string, { provider: string; slot: number }>();
  /** Slots given back whose UPDATE failed (the database away): given back again on the next renewal. */
  readonly #unreleased = new Map<string, { provider: string; slot: number }>();

  constructor(db: Queryable, clock: Pick<Clock, 'now' | 'sleep'>, options: ProviderSlotsOptions) {
    this.#db = db;
    this.#clock = clock;
    this.#owner = options.owner;
    this.#leaseMs = options.leaseMs;
    this.#maxPollMs = options.maxPollMs ?? 200;
  }

  /** How many slots this process holds now. */
  get held(): number {
    return this.#held.size;
  }

  /** Takes a free slot of `provider` (of `limit`) for `holder`, or returns undefined when all are taken. */
  async tryAcquire(provider: string, limit: number, holder: string): Promise<SlotHold | undefined> {
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error(`a slot limit must be a positive integer, got ${limit}`);
    await this.#ensure(provider, limit);
    const now = this.#clock.now();
    // Unique per hold: renewals and the release touch only this hold's row, never a later hold of the same
    // slot by this worker (its own lapsed slot taken again for another cell).
    const tag = `${holder}#${randomUUID()}`;
    const rows = await this.#db.query<{ slot: number }>(
      `UPDATE provider_slots s SET owner = $3, holder = $4, lease_until_ms = $5
       WHERE s.provider = $1 AND s.slot = (
         SELECT f.slot FROM provider_slots f
         WHERE f.provider = $1 AND f.slot < $2 AND (f.owner IS NULL OR f.lease_until_ms < $6)
         ORDER BY f.slot LIMIT 1
         FOR UPDATE SKIP LOCKED)
       RETURNING s.slot`,
      [provider, limit, this.#owner, tag, now + this.#leaseMs, now],
    );
    const row = rows[0];
    if (!row) return undefined;
    const slot = Number(row.slot);
    this.#held.set(tag, { provider, slot });
    let released = false;
    return {
      provider,
      slot,
      release: async () => {
        if (released) return;
        released = true;
        this.#held.delete(tag);
        try {
          await this.#giveBack(tag, provider, slot);
        } catch (error) {
          this.#unreleased.set(tag, { provider, slot });
          throw error;
        } finally {
          this.#wakeOne(provider);
        }
      },
    };
  }

  async #giveBack(tag: string, provider: string, slot: number): Promise<void> {
    await this.#db.query(
      `UPDATE provider_slots SET owner = NULL, holder = NULL, lease_until_ms = 0
       WHERE provider = $1 AND slot = $2 AND owner = $3 AND holder = $4`,
      [provider, slot, this.#owner, tag],
    );
  }

  /**
   * Takes a slot, waiting while all are taken: woken at once by a slot given back in this process, else
   * looking again after a short pause (growing to `maxPollMs`). Undefined when `maxWaitMs` passed first.
   */
  async acquire(
    provider: string,
    limit: number,
    holder: string,
    options: { maxWaitMs?: number; signal?: AbortSignal } = {},
  ): Promise<SlotHold | undefined> {
    const deadline = this.#clock.now() + (options.maxWaitMs ?? 120_000);
    let pause = 10;
    for (;;) {
      options.signal?.throwIfAborted();
      const hold = await this.tryAcquire(provider, limit, holder);
      if (hold) return hold;
      const left = deadline - this.#clock.now();
      if (left <= 0) return undefined;
      await this.#waitForRelease(provider, Math.min(pause, left), options.signal);
      pause = Math.min(this.#maxPollMs, pause * 2);
    }
  }

  /**
   * Gives back again the slots whose release failed, then extends the lease of every slot this worker holds
   * (a lapsed one still unclaimed is kept too).
   */
  async renew(): Promise<void> {
    for (const [tag, { provider, slot }] of this.#unreleased) {
      await this.#giveBack(tag, provider, slot);
      this.#unreleased.delete(tag);
      this.#wakeOne(provider);
    }
    if (this.#held.size === 0) return;
    await this.#db.query(
      'UPDATE provider_slots SET lease_until_ms = $2 WHERE owner = $1 AND holder = ANY($3::text[])',
      [this.#owner, this.#clock.now() + this.#leaseMs, [...this.#held.keys()]],
    );
  }

  /** Slots of `provider` held now (by a live lease), across every worker. */
  async inUse(provider: string): Promise<number> {
    const rows = await this.#db.query<{ n: string }>(
      'SELECT count(*) AS n FROM provider_slots WHERE provider = $1 AND owner IS NOT NULL AND lease_until_ms >= $2',
      [provider, this.#clock.now()],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async #ensure(provider: string, limit: number): Promise<void> {
    if ((this.#ensured.get(provider) ?? 0) >= limit) return;
    await this.#db.query(
      `INSERT INTO provider_slots (provider, slot) SELECT $1, g FROM generate_series(0, $2::int - 1) AS g
       ON CONFLICT (provider, slot) DO NOTHING`,
      [provider, limit],
    );
    this.#ensured.set(provider, limit);
  }

  #waitForRelease(provider: string, ms: number, signal?: AbortSignal): Promise<void> {
    let waiters = this.#waiters.get(provider);
    if (!waiters) {
      waiters = new Set();
      this.#waiters.set(provider, waiters);
    }
    const set = waiters;
    const { promise, resolve } = Promise.withResolvers<void>();
    const wake = () => resolve();
    set.add(wake);
    const abortable = new AbortController();
    const onAbort = () => abortable.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const slept = this.#clock.sleep(ms, abortable.signal).catch(() => {});
    return Promise.race([promise, slept]).finally(() => {
      abortable.abort();
      signal?.removeEventListener('abort', onAbort);
      set.delete(wake);
      if (set.size === 0 && this.#waiters.get(provider) === set) this.#waiters.delete(provider);
    });
  }

  #wakeOne(provider: string): void {
    const waiters = this.#waiters.get(provider);
    const first = waiters?.values().next().value;
    if (first) {
      waiters!.delete(first);
      first();
    }
  }
}
