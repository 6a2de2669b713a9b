import type { z } from 'zod';
import { PixelError } from './errors.ts';

/** zod issues speak in schema terms; callers need "cfgScale must be between 1 and 20, got 35". */
export function zodToPixelError(error: z.ZodError, input: unknown): PixelError {
  const issues = error.issues.map((issue) => describeIssue(issue, input));
  const first = issues[0] ?? { field: '(request)', message: 'is invalid' };
  const extra =
    issues.length > 1
      ? ` (and ${issues.length - 1} more: ${issues
          .slice(1)
          .map((i) => i.text)
          .join('; ')})`
      : '';
  return new PixelError({
    code: 'invalid_argument',
    field: first.field,
    reason: 'validation',
    message: `${first.text}${extra}`,
  });
}

interface Described {
  field: string;
  message: string;
  text: string;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): Described {
  const path = issue.path.map(String);
  const field = path.length > 0 ? path.join('.') : '(request)';
  const given = valueAt(input, issue.path);
  const got = given.present ? `, got ${show(given.value)}` : '';
  let message: string;
  switch (issue.code) {
    case 'invalid_type':
      message = given.present ? `must be ${article(issue.expected)}` : 'is required';
      break;
    case 'too_small':
    case 'too_big': {
      message = rangeMessage(issue, path);
      break;
    }
    case 'invalid_value':
      message = `must be one of ${issue.values.map((v) => show(v)).join(', ')}`;
      break;
    case 'unrecognized_keys': {
      const keys = issue.keys;
      const where = path.length > 0 ? `${field}.` : '';
      return {
        field: `${where}${keys[0]}`,
        message: 'is not a known field',
        text: `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `${where}${k}`).join(', ')}`,
      };
    }
    case 'invalid_format':
      message = issue.message;
      break;
    case 'not_multiple_of':
      message = `must be a multiple of ${issue.divisor}`;
      break;
    default:
      message = issue.message;
  }
  if (issue.code === 'invalid_type' && !given.present) return { field, message, text: `${field} ${message}` };
  return { field, message, text: `${field} ${message}${got}` };
}

function rangeMessage(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig, path: string[]): string {
  const custom = issue.message && !issue.message.startsWith('Too ') && !issue.message.startsWith('Invalid');
  if (custom) return issue.message;
  const kind = issue.origin;
  if (kind === 'string') {
    if (issue.code === 'too_small')
      return Number(issue.minimum) <= 1
        ? 'must not be empty'
        : `must be at least ${issue.minimum} characters`;
    return `must be at most ${issue.maximum} characters`;
  }
  const bounds = RANGE_HINTS.get(path[path.length - 1] ?? '');
  if (bounds) return `must be between ${bounds[0]} and ${bounds[1]}`;
  if (issue.code === 'too_small') return `must be at least ${issue.minimum}`;
  return `must be at most ${issue.maximum}`;
}

// Known two-sided ranges, so a too-big and a too-small value get the same helpful message.
const RANGE_HINTS = new Map<string, [number, number]>([
  ['cfgScale', [1, 20]],
  ['width', [64, 8192]],
  ['height', [64, 8192]],
  ['n', [1, 16]],
  ['seed', [0, 4_294_967_295]],
  ['steps', [1, 500]],
]);

function valueAt(input: unknown, path: PropertyKey[]): { present: boolean; value?: unknown } {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return { present: false };
    if (!(key in (current as object))) return { present: false };
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return { present: current !== undefined, value: current };
}

function show(value: unknown): string {
  if (typeof value === 'string') {
    const cut = value.length > 40 ? `${value.slice(0, 40)}… (${value.length} characters)` : value;
    return JSON.stringify(cut);
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function article(expected: string): string {
  if (expected === 'int') return 'an integer';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}
