import type { Interceptor } from '@connectrpc/connect';
import { PixelError } from '../protocol/errors.ts';
import { badTextReason } from '../protocol/input-guards.ts';
import { toConnectError } from './wire-errors.ts';

/** Deeper than any Pixel message; protobuf's own JSON decoder stops Struct values at 100 levels. */
const MAX_DEPTH = 128;

/**
 * Every unary RPC, before its handler: a NUL or a lone UTF-16 surrogate in any string of the request
 * (ids, names, labels, filters, map keys, Struct values) is `invalid_argument` naming the field, never a
 * database error later (PostgreSQL text cannot hold NUL). Field names are the message's own (camelCase),
 * Struct and map keys as written.
 */
export function textGuardInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (!req.stream) {
      try {
        walk(req.message, '', 0);
      } catch (error) {
        throw toConnectError(error);
      }
    }
    return next(req);
  };
}

function walk(value: unknown, path: string, depth: number): void {
  if (typeof value === 'string') {
    const reason = badTextReason(value);
    if (reason) throw refuse(path || '(request)', `${path || 'the request'} ${reason}`);
    return;
  }
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return;
  if (depth > MAX_DEPTH) throw refuse(path, `${path} is nested more than ${MAX_DEPTH} levels deep`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) walk(value[i], `${path}[${i}]`, depth + 1);
    return;
  }
  const record = value as Record<string, unknown>;
  if (record.$typeName === 'google.protobuf.Struct') walkMap(record.fields, path, depth);
  else if (record.$typeName === 'google.protobuf.Value')
    walk((record.kind as { value?: unknown } | undefined)?.value, path, depth);
  else if (record.$typeName === 'google.protobuf.ListValue') walk(record.values, path, depth);
  else if (typeof record.case === 'string' && 'value' in record && Object.keys(record).length === 2)
    // A oneof: its value stands for the field itself (`profile`, whichever case was chosen).
    walk(record.value, path, depth + 1);
  else walkMap(record, path, depth);
}

function walkMap(map: unknown, path: string, depth: number): void {
  if (map === null || typeof map !== 'object') return;
  for (const [key, item] of Object.entries(map as Record<string, unknown>)) {
    if (key === '$typeName' || key === '$unknown') continue;
    const field = join(path, key);
    const reason = badTextReason(key);
    if (reason) throw refuse(field, `field name ${field} ${reason}`);
    walk(item, field, depth + 1);
  }
}

const printable = (key: string) => (/^[A-Za-z0-9_$-]+$/.test(key) ? key : JSON.stringify(key));
const join = (path: string, key: string) => (path === '' ? printable(key) : `${path}.${printable(key)}`);

function refuse(field: string, message: string): PixelError {
  return new PixelError({ code: 'invalid_argument', field, reason: 'invalid_text', message });
}
