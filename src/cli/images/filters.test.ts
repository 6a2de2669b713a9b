import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../../catalog/cursor.ts';
import { PixelError } from '../../protocol/errors.ts';
import { listOptionsFromFlags, listRequestJson } from './filters.ts';

describe('pixel images list flags', () => {
  it('map onto every ListImages filter', () => {
    const token = encodeCursor({
      createdAt: new Date('2026-12-01T10:00:00Z'),
      id: 'img_01M8TNQKWZZ0ME6G3A5EXJ90FC',
    });
    const options = listOptionsFromFlags({
      app: 'produce',
      model: 'flux-dev',
      team: 'grocery',
      status: 'rejected',
      after: '2026-12-01',
      before: '2026-12-02T08:00:00Z',
      prompt: 'apple',
      accepted: 'false',
      parent: 'img_01M8TNQKWZZ0ME6G3A5EXJ90FC',
      limit: '20',
      pageToken: token,
    });
    expect(options).toEqual({
      limit: 20,
      cursor: token,
      application: 'produce',
      model: 'flux-dev',
      team: 'grocery',
      status: 'rejected',
      createdAfter: new Date('2026-12-01T00:00:00Z'),
      createdBefore: new Date('2026-12-02T08:00:00Z'),
      promptContains: 'apple',
      accepted: false,
      parentId: 'img_01M8TNQKWZZ0ME6G3A5EXJ90FC',
    });
    // The same filters as a ListImagesRequest for a server.
    expect(listRequestJson(options)).toEqual({
      pageSize: 20,
      pageToken: token,
      application: 'produce',
      model: 'flux-dev',
      team: 'grocery',
      status: 'rejected',
      createdAfter: '2026-12-01T00:00:00.000Z',
      createdBefore: '2026-12-02T08:00:00.000Z',
      promptContains: 'apple',
      accepted: false,
      parentId: 'img_01M8TNQKWZZ0ME6G3A5EXJ90FC',
    });
    expect(listOptionsFromFlags({ limit: '50', accepted: 'true' })).toEqual({ limit: 50, accepted: true });
  });

  it.each([
    [{ limit: '0' }, 'limit', /--limit must be from 1 to 1000, got "0"/],
    [{ limit: '1001' }, 'limit', /--limit must be from 1 to 1000/],
    [{ limit: 'ten' }, 'limit', /--limit must be from 1 to 1000/],
    [
      { limit: '5', status: 'gone' },
      'status',
      /--status must be one of stored, rejected, deleted, got "gone"/,
    ],
    [{ limit: '5', accepted: 'maybe' }, 'accepted', /--accepted must be true or false/],
    [{ limit: '5', after: 'yesterday' }, 'after', /--after must be an ISO 8601 date/],
    [{ limit: '5', before: '2026-13-45' }, 'before', /--before must be an ISO 8601 date/],
    [{ limit: '5', prompt: 'x'.repeat(501) }, 'prompt', /--prompt must be at most 500 characters/],
    [{ limit: '5', pageToken: 'not-a-token' }, 'page-token', /./],
  ])('refuses %o naming %s', (flags, field, message) => {
    let thrown: unknown;
    try {
      listOptionsFromFlags(flags);
    } catch (error) {
      thrown = error;
    }
    expect(PixelError.isInstance(thrown)).toBe(true);
    expect((thrown as PixelError).field).toBe(field);
    expect((thrown as PixelError).message).toMatch(message);
  });
});
