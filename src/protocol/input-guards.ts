import { PixelError } from './errors.ts';

/**
 * Checks that run on a request as sent, before the schema and before any work: text a provider, a
 * database or a PNG chunk cannot take (NUL, lone UTF-16 surrogates), nesting without end, and free-form
 * maps without bound. Every refusal is `invalid_argument` naming the field.
 */

/** Deepest nesting allowed anywhere in a request (the schema's own fields need 3 levels). */
export const MAX_REQUEST_DEPTH = 32;

/** Bounds on a free-form map (providerOptions, vars): levels below the map itself, and values in all. */
export interface NestingLimits {
  depth: number;
  nodes: number;
}

export const PROVIDER_OPTIONS_LIMITS: NestingLimits = { depth: 6, nodes: 1000 };
export const VARS_LIMITS: NestingLimits = { depth: 1, nodes: 200 };

/** Escapes a map key for use in a field path when it is not printable as is. */
function keyPart(key: string): string {
  return /^[A-Za-z0-9_$-]+$/.test(key) ? key : JSON.stringify(key);
}

const join = (path: string, key: string): string => (path === '' ? keyPart(key) : `${path}.${keyPart(key)}`);

/** The first reason `text` cannot be accepted, or undefined. */
export function badTextReason(text: string): string | undefined {
  const nul = text.indexOf('\u0000');
  if (nul >= 0) return `must not contain a NUL character (found at index ${nul})`;
  if (!text.isWellFormed()) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) {
        const next = text.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          i++;
          continue;
        }
        return `must not contain a lone UTF-16 surrogate (found at index ${i})`;
      }
      if (c >= 0xdc00 && c <= 0xdfff) return `must not contain a lone UTF-16 surrogate (found at index ${i})`;
    }
  }
  return undefined;
}

/**
 * Walks every string (values and keys) of a JSON-like value, depth-bounded, and throws on the first one
 * that is not acceptable text. `root` prefixes field names (e.g. `profile`).
 */
export function assertCleanText(value: unknown, root = ''): void {
  walk(value, root, 0);
}

function walk(value: unknown, path: string, depth: number): void {
  if (typeof value === 'string') {
    const reason = badTextReason(value);
    if (reason) throw refuse(path || '(request)', `${path || 'the request'} ${reason}`, 'invalid_text');
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (depth >= MAX_REQUEST_DEPTH) {
    throw refuse(
      path || '(request)',
      `${path || 'the request'} is nested more than ${MAX_REQUEST_DEPTH} levels deep`,
      'too_deep',
    );
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) walk(value[i], `${path}[${i}]`, depth + 1);
    return;
  }
  for (const key of Object.keys(value)) {
    const reason = badTextReason(key);
    const field = join(path, key);
    if (reason) throw refuse(field, `field name ${field} ${reason}`, 'invalid_text');
    walk((value as Record<string, unknown>)[key], field, depth + 1);
  }
}

/**
 * Bounds a free-form map: at most `limits.depth` levels of objects/arrays below the map, and at most
 * `limits.nodes` values in all. Stops counting at the first excess, so a hostile value costs little.
 */
export function assertNesting(value: unknown, field: string, limits: NestingLimits): void {
  if (value === null || typeof value !== 'object') return;
  let nodes = 0;
  // Iterative, so even a value nested far beyond the limit cannot exhaust the stack.
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: field, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.depth > limits.depth) {
      throw refuse(
        item.path,
        `${field} may nest at most ${limits.depth} level${limits.depth === 1 ? '' : 's'} deep; ${item.path} is deeper`,
        'too_deep',
      );
    }
    const entries: Array<[string, unknown]> = Array.isArray(item.value)
      ? item.value.map((v, i) => [`[${i}]`, v])
      : Object.entries(item.value as Record<string, unknown>).map(([k, v]) => [`.${keyPart(k)}`, v]);
    nodes += entries.length;
    if (nodes > limits.nodes) {
      throw refuse(field, `${field} may hold at most ${limits.nodes} values in all`, 'too_large');
    }
    for (const [suffix, child] of entries)
      stack.push({ value: child, path: `${item.path}${suffix}`, depth: item.depth + 1 });
  }
}

function refuse(field: string, message: string, reason: string): PixelError {
  return new PixelError({ code: 'invalid_argument', field, reason, message });
}
