import { redactSecrets } from '../protocol/errors.ts';

/** Field names whose values are credentials wherever they appear in a JSON document. */
const SECRET_KEY =
  /^(authorization|x-api-key|x-key|x-goog-api-key|api[_-]?key|apikey|access[_-]?key(_id)?|secret([_-]?access)?[_-]?key|secret|password|token|access[_-]?token|refresh[_-]?token|client[_-]?secret|session[_-]?token|cookie)$/i;
const MAX_DEPTH = 32;

/**
 * A copy of a JSON value with credentials removed: values under secret-looking keys become
 * "[redacted]" and strings pass through redactSecrets. Used before a record is stored or exported.
 */
export function scrubSecrets<T>(value: T): T {
  return scrub(value, 0) as T;
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    out[key] = SECRET_KEY.test(key) && v !== null && v !== undefined ? '[redacted]' : scrub(v, depth + 1);
  }
  return out;
}
