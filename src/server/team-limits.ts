import { randomBytes } from 'node:crypto';
import type { Db } from '../catalog/db.ts';
import { PixelError } from '../protocol/errors.ts';
import type { Clock } from '../providers/reliability/clock.ts';
import type { Caller } from './image-service.ts';

export interface TeamLimitSettings {
  /** Requests per minute per team (0 = none). */
  teamRpm: number;
  /** Generations at once per team (0 = none). */
  teamConcurrency: number;
  keyRpm: number;
  keyConcurrency: number;
  /** Per-team values instead of teamRpm / teamConcurrency (PIXEL_TEAM_LIMITS_FILE). */
  teams?: Readonly<Record<string, { rpm?: number; concurrency?: number }>>;
}

export const WINDOW_MS = 60_000;
/** A generation's lease lasts this long unless renewed; a dead process's leases lapse after it. */
export const LEASE_MS = 30_000;
/** Leases are renewed this often while their generation runs. */
export const RENEW_MS = 10_000;
/** Namespace of the advisory locks that serialise lease counting per scope. */
const LOCK_NAMESPACE = 7_311;

export type LimitKind = 'team_rpm' | 'team_concurrency' | 'key_rpm' | 'key_concurrency';

export interface Lease {
  release(): Promise<void>;
}

export interface TeamLimiter {
  readonly enabled: boolean;
  /** Counts one request against the caller's per-minute limits; throws resource_exhausted over one. */
  admitRequest(caller: Caller): Promise<void>;
  /** Takes a generation slot of the caller's team (and key); throws resource_exhausted when none is free. */
  acquire(caller: Caller): Promise<Lease>;
  /** Extends the leases this process holds (called every RENEW_MS by the timer, or by tests). */
  renew(): Promise<void>;
  close(): void;
}

function exhausted(kind: LimitKind, caller: Caller, limit: number, retryAfterMs: number): PixelError {
  const who = kind.startsWith('team') ? `team "${caller.team}"` : 'this API key';
  const what = kind.endsWith('rpm') ? `${limit} requests per minute` : `${limit} generations at once`;
  return new PixelError({
    code: 'resource_exhausted',
    reason: kind === 'team_rpm' || kind === 'key_rpm' ? 'rate_limited' : 'concurrency_limited',
    field: kind.startsWith('team') ? 'team' : 'api_key',
    retryable: true,
    retryAfterMs: Math.max(1000, Math.ceil(retryAfterMs / 1000) * 1000),
    message: `${who} is over its limit of ${what}; retry later`,
  });
}

/**
 * Per-team and per-key limits kept in the database, so every process sharing it enforces one count.
 * Requests per minute use a sliding window estimated from the current and previous minute's counters
 * (the previous minute weighted by how much of it still overlaps the last 60 s). Concurrent generations
 * are leases counted under an advisory lock per scope; a process renews its leases while their
 * generations run, and the leases of a process that died lapse after LEASE_MS.
 */
export function createTeamLimiter(options: {
  db: Db;
  settings: TeamLimitSettings;
  clock?: Pick<Clock, 'now'>;
  /** Called for every refusal, for the metrics. */
  onRejected?: (team: string, kind: LimitKind) => void;
  /** Renew leases on a timer (default true; tests call renew()). */
  renewTimer?: boolean;
}): TeamLimiter {
  const { db, settings } = options;
  const clock = options.clock ?? { now: () => Date.now() };
  const held = new Map<string, string[]>();
  const overrides = Object.values(settings.teams ?? {});
  const anyTeamRpm = settings.teamRpm > 0 || overrides.some((t) => (t.rpm ?? 0) > 0);
  const anyTeamConcurrency = settings.teamConcurrency > 0 || overrides.some((t) => (t.concurrency ?? 0) > 0);
  const enabled = anyTeamRpm || anyTeamConcurrency || settings.keyRpm > 0 || settings.keyConcurrency > 0;
  const teamRpm = (team: string) => settings.teams?.[team]?.rpm ?? settings.teamRpm;
  const teamConcurrency = (team: string) => settings.teams?.[team]?.concurrency ?? settings.teamConcurrency;
  let lastCleanup = Number.NEGATIVE_INFINITY;

  const countRequest = async (scope: string, limit: number): Promise<number | undefined> => {
    const now = clock.now();
    const window = now - (now % WINDOW_MS);
    const weight = 1 - (now - window) / WINDOW_MS;
    const rows = await db.query<{ count: number }>(
      `WITH prev AS (
         SELECT coalesce((SELECT count FROM limit_windows WHERE scope = $1 AND window_start = $2::bigint - ${WINDOW_MS}), 0) AS n
       )
       INSERT INTO limit_windows AS w (scope, window_start, count)
       SELECT $1, $2::bigint, 1 FROM prev WHERE prev.n * $3::float8 + 1 <= $4::int
       ON CONFLICT (scope, window_start) DO UPDATE SET count = w.count + 1
         WHERE (SELECT n FROM prev) * $3::float8 + w.count + 1 <= $4::int
       RETURNING count`,
      [scope, window, weight, limit],
    );
    if (rows.length > 0) return undefined;
    // Refused: how long until the estimate leaves room for one more.
    const counts = await db.query<{ window_start: string | number; count: number }>(
      'SELECT window_start, count FROM limit_windows WHERE scope = $1 AND window_start >= $2::bigint',
      [scope, window - WINDOW_MS],
    );
    const current = Number(counts.find((r) => Number(r.window_start) === window)?.count ?? 0);
    const previous = Number(counts.find((r) => Number(r.window_start) === window - WINDOW_MS)?.count ?? 0);
    if (current + 1 > limit || previous === 0) return window + WINDOW_MS - now;
    // previous * (1 - t/W) + current + 1 <= limit  ⇔  t >= W * (1 - (limit - current - 1) / previous)
    const t = WINDOW_MS * (1 - (limit - current - 1) / previous);
    return Math.max(0, window + t - now);
  };

  const uncount = (scope: string) => {
    const now = clock.now();
    return db.query(
      'UPDATE limit_windows SET count = count - 1 WHERE scope = $1 AND window_start = $2::bigint AND count > 0',
      [scope, now - (now % WINDOW_MS)],
    );
  };

  const cleanup = async () => {
    const now = clock.now();
    if (now - lastCleanup < WINDOW_MS) return;
    lastCleanup = now;
    await db.query('DELETE FROM limit_windows WHERE window_start < $1::bigint', [
      now - (now % WINDOW_MS) - WINDOW_MS,
    ]);
    await db.query('DELETE FROM limit_leases WHERE expires_at < $1::bigint', [now]);
  };

  const takeLease = async (id: string, scope: string, limit: number): Promise<boolean> =>
    db.transaction(async (tx) => {
      const now = clock.now();
      await tx.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [LOCK_NAMESPACE, scope]);
      const rows = await tx.query<{ n: string | number }>(
        'SELECT count(*) AS n FROM limit_leases WHERE scope = $1 AND expires_at >= $2::bigint',
        [scope, now],
      );
      if (Number(rows[0]?.n ?? 0) >= limit) return false;
      await tx.query('INSERT INTO limit_leases (id, scope, expires_at) VALUES ($1, $2, $3::bigint)', [
        id,
        scope,
        now + LEASE_MS,
      ]);
      return true;
    });

  const dropLease = (id: string) => db.query('DELETE FROM limit_leases WHERE id = $1', [id]);

  const renew = async () => {
    if (held.size === 0) return;
    await db.query('UPDATE limit_leases SET expires_at = $1::bigint WHERE id = ANY($2::text[])', [
      clock.now() + LEASE_MS,
      [...held.keys()],
    ]);
  };
  let timer: NodeJS.Timeout | undefined;
  if (enabled && options.renewTimer !== false && (anyTeamConcurrency || settings.keyConcurrency > 0)) {
    timer = setInterval(() => void renew().catch(() => {}), RENEW_MS);
    timer.unref();
  }

  const reject = (caller: Caller, kind: LimitKind, limit: number, retryAfterMs: number) => {
    options.onRejected?.(caller.team, kind);
    return exhausted(kind, caller, limit, retryAfterMs);
  };

  return {
    enabled,
    async admitRequest(caller) {
      const rpm = teamRpm(caller.team);
      if (settings.keyRpm <= 0 && rpm <= 0) return;
      await cleanup();
      let keyCounted = false;
      if (settings.keyRpm > 0 && caller.keyId !== undefined) {
        const wait = await countRequest(`key:${caller.keyId}`, settings.keyRpm);
        if (wait !== undefined) throw reject(caller, 'key_rpm', settings.keyRpm, wait);
        keyCounted = true;
      }
      if (rpm > 0) {
        const wait = await countRequest(`team:${caller.team}`, rpm);
        if (wait !== undefined) {
          if (keyCounted) await uncount(`key:${caller.keyId}`);
          throw reject(caller, 'team_rpm', rpm, wait);
        }
      }
    },
    async acquire(caller) {
      const scopes: Array<[string, number, LimitKind]> = [];
      if (settings.keyConcurrency > 0 && caller.keyId !== undefined)
        scopes.push([`key:${caller.keyId}`, settings.keyConcurrency, 'key_concurrency']);
      const concurrency = teamConcurrency(caller.team);
      if (concurrency > 0) scopes.push([`team:${caller.team}`, concurrency, 'team_concurrency']);
      if (scopes.length === 0) return { release: async () => {} };
      await cleanup();
      const id = `lease_${randomBytes(12).toString('base64url')}`;
      const taken: string[] = [];
      try {
        for (const [scope, limit, kind] of scopes) {
          if (!(await takeLease(id, scope, limit))) throw reject(caller, kind, limit, 1000);
          taken.push(scope);
          held.set(id, taken);
        }
      } catch (error) {
        held.delete(id);
        if (taken.length > 0) await dropLease(id).catch(() => {});
        throw error;
      }
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          held.delete(id);
          await dropLease(id);
        },
      };
    },
    renew,
    close() {
      if (timer) clearInterval(timer);
    },
  };
}

/** The image use cases with every generation holding a slot of its team's (and key's) concurrency limit. */
export function withGenerationLimit<
  T extends { generateAndStore(input: never, caller: Caller, ...rest: never[]): Promise<unknown> },
>(images: T, limiter: TeamLimiter): T {
  if (!limiter.enabled) return images;
  const generateAndStore = async (input: never, caller: Caller, ...rest: never[]) => {
    const lease = await limiter.acquire(caller);
    try {
      return await images.generateAndStore(input, caller, ...rest);
    } finally {
      await lease.release().catch(() => {});
    }
  };
  return new Proxy(images, {
    get(target, property) {
      if (property === 'generateAndStore') return generateAndStore;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
