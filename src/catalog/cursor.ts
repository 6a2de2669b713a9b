import { invalidArgument } from '../protocol/errors.ts';

/** A position in (created_at, id) order. */
export interface Position {
  createdAt: Date;
  id: string;
}

/** Opaque to callers: base64url of a small JSON document. */
export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify({ t: position.createdAt.toISOString(), i: position.id })).toString(
    'base64url',
  );
}

export function decodeCursor(cursor: string, field = 'cursor'): Position {
  try {
    if (cursor.length > 512) throw new Error('too long');
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      t?: unknown;
      i?: unknown;
    };
    if (typeof parsed.t !== 'string' || typeof parsed.i !== 'string') throw new Error('shape');
    const createdAt = new Date(parsed.t);
    if (Number.isNaN(createdAt.getTime())) throw new Error('time');
    return { createdAt, id: parsed.i };
  } catch {
    throw invalidArgument(field, 'the cursor is not one this server handed out', 'invalid_cursor');
  }
}
