import { PixelError } from '../../protocol/errors.ts';

export interface BreakerPolicy {
  /** Consecutive retryable failures (within `windowMs`) that open the circuit. */
  failureThreshold: number;
  windowMs: number;
  /** How long the circuit stays open before one probe is let through. */
  cooldownMs: number;
}

export interface ReliabilityPolicy {
  /** Attempts per request, the first included. */
  maxAttempts: number;
  /** Whole-request budget across attempts and waits. */
  deadlineMs: number;
  /** Exponential backoff with full jitter: random(0, min(maxDelayMs, baseDelayMs·2^retry)). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A provider wait longer than this is not waited out: the error goes back to the caller. */
  maxRetryAfterMs: number;
  /** Requests in flight at once to this provider. */
  concurrency: number;
  /** Requests allowed to wait for a slot; beyond that the request fails at once. */
  maxQueue: number;
  /** Requests per minute (token bucket); 0 = no limit. */
  rpm: number;
  /** Token bucket size (burst); defaults to one second's worth of rpm, at least 1. */
  burst?: number;
  breaker: BreakerPolicy;
}

export const DEFAULT_POLICY: ReliabilityPolicy = {
  maxAttempts: 3,
  // Async providers (Replicate, fal queue, BFL) can run for minutes.
  deadlineMs: 300_000,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 60_000,
  concurrency: 8,
  maxQueue: 256,
  rpm: 0,
  breaker: { failureThreshold: 5, windowMs: 60_000, cooldownMs: 30_000 },
};

type IntKey = 'concurrency' | 'rpm' | 'maxAttempts' | 'deadlineMs' | 'maxQueue';

const ENV_KEYS: Array<{ suffix: string; key: IntKey; min: number }> = [
  { suffix: 'CONCURRENCY', key: 'concurrency', min: 1 },
  { suffix: 'RPM', key: 'rpm', min: 0 },
  { suffix: 'MAX_ATTEMPTS', key: 'maxAttempts', min: 1 },
  { suffix: 'DEADLINE_MS', key: 'deadlineMs', min: 1 },
  { suffix: 'QUEUE', key: 'maxQueue', min: 0 },
];

const BREAKER_KEYS: Array<{ suffix: string; key: keyof BreakerPolicy; min: number }> = [
  { suffix: 'BREAKER_THRESHOLD', key: 'failureThreshold', min: 1 },
  { suffix: 'BREAKER_WINDOW_MS', key: 'windowMs', min: 1 },
  { suffix: 'BREAKER_COOLDOWN_MS', key: 'cooldownMs', min: 0 },
];

/**
 * Reads `PIXEL_<PROVIDER>_CONCURRENCY`, `_RPM`, `_MAX_ATTEMPTS`, `_DEADLINE_MS`, `_QUEUE`,
 * `_BREAKER_THRESHOLD`, `_BREAKER_WINDOW_MS`, `_BREAKER_COOLDOWN_MS` over the defaults.
 * A value that is not a whole number in range is a configuration error naming the variable.
 */
export function reliabilityPolicyFromEnv(
  env: NodeJS.ProcessEnv,
  provider: string,
  defaults: ReliabilityPolicy = DEFAULT_POLICY,
): ReliabilityPolicy {
  const prefix = `PIXEL_${provider.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
  const policy: ReliabilityPolicy = { ...defaults, breaker: { ...defaults.breaker } };
  for (const { suffix, key, min } of ENV_KEYS) {
    const value = readInt(env, prefix + suffix, min);
    if (value !== undefined) policy[key] = value;
  }
  for (const { suffix, key, min } of BREAKER_KEYS) {
    const value = readInt(env, prefix + suffix, min);
    if (value !== undefined) policy.breaker[key] = value;
  }
  return policy;
}

function readInt(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw.trim());
  if (!Number.isInteger(value) || value < min) {
    throw new PixelError({
      code: 'invalid_argument',
      reason: 'validation',
      field: name,
      message: `${name} must be a whole number >= ${min}, got ${JSON.stringify(raw)}`,
    });
  }
  return value;
}
