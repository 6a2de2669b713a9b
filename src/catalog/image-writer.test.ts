import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../providers/reliability/manual-clock.ts';
import { type Db, openDatabase } from './db.ts';
import { IdempotencyStore, LEASE_MS } from './idempotency.ts';
import { newImageId } from './ids.ts';
import { type Fence, ImageWriter } from './image-writer.ts';
import type { NewImageRecord } from './images.ts';

let db: Db;
beforeAll(async () => {
  db = await openDatabase({ memory: true });
});
afterAll(async () => {
  await db?.close();
});

let n = 0;
function row(team: string, key: string): NewImageRecord & { id: string } {
  const blob = `blob-${++n}`;
  return {
    id: newImageId(),
    team,
    model: 'pixel/sketch',
    route: 'pixel/sketch',
    provider: 'pixel',
    blobKey: blob,
    sha256: createHash('sha256').update(blob).digest('hex'),
    byteSize: 10,
    mediaType: 'image/png',
    width: 8,
    height: 8,
    prompt: 'a pear',
    idempotencyKey: key,
  };
}

const rowsFor = async (team: string, key: string) =>
  (
    await db.query<{ id: string }>('SELECT id FROM images WHERE team = $1 AND idempotency_key = $2', [
      team,
      key,
    ])
  ).map((r) => r.id);

const fenceOf =
  (store: IdempotencyStore, team: string, key: string, response: unknown): Fence =>
  async (tx) => {
    if (!(await store.completeIn(tx, team, key, response))) throw new Error('key taken over');
  };

describe('ImageWriter fences: rows commit with an idempotency key completion, or not at all', () => {
  it('an attempt whose key was taken over (lease lapsed) cannot commit its images; the taker commits once', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 2, 8));
    const options = { clock, renewEveryMs: 0, exclusive: false };
    const slow = new IdempotencyStore(db, { ...options, owner: 'worker-a' });
    const retry = new IdempotencyStore(db, { ...options, owner: 'worker-b' });
    const writer = new ImageWriter(db);
    const team = 'grocery';
    const key = 'batch:run_x:0:0';
    expect(await slow.begin({ team, key, requestHash: 'h' })).toEqual({ state: 'new' });
    // worker-a stalls past its lease; worker-b's retry takes the key over and stores first.
    clock.advance(LEASE_MS + 1);
    expect(await retry.begin({ team, key, requestHash: 'h' })).toEqual({ state: 'new' });
    const taker = row(team, key);
    await writer.write([taker], Promise.resolve(), fenceOf(retry, team, key, { imageIds: [taker.id] }));
    // worker-a wakes up and stores its own image: refused, and nothing of it is committed.
    const late = row(team, key);
    await expect(
      writer.write([late], Promise.resolve(), fenceOf(slow, team, key, { imageIds: [late.id] })),
    ).rejects.toThrow(/taken over/);
    expect(await rowsFor(team, key)).toEqual([taker.id]);
    expect(await retry.begin({ team, key, requestHash: 'h' })).toEqual({
      state: 'replay',
      response: { imageIds: [taker.id] },
    });
  });

  it('the other way round: the first attempt commits, the taker is refused, whichever stores last', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 2, 9));
    const options = { clock, renewEveryMs: 0, exclusive: false };
    const first = new IdempotencyStore(db, { ...options, owner: 'worker-c' });
    const writer = new ImageWriter(db);
    const team = 'grocery';
    const key = 'batch:run_y:0:0';
    await first.begin({ team, key, requestHash: 'h' });
    const mine = row(team, key);
    await writer.write([mine], undefined, fenceOf(first, team, key, { imageIds: [mine.id] }));
    // Done: a retry replays, and a stale second store by anyone is refused.
    const other = new IdempotencyStore(db, { ...options, owner: 'worker-d' });
    clock.advance(LEASE_MS + 1);
    expect((await other.begin({ team, key, requestHash: 'h' })).state).toBe('replay');
    const again = row(team, key);
    await expect(
      writer.write([again], undefined, fenceOf(other, team, key, { imageIds: [again.id] })),
    ).rejects.toThrow(/taken over/);
    expect(await rowsFor(team, key)).toEqual([mine.id]);
  });

  it('in a shared group commit, a refused fence fails only its own call', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 2, 10));
    const store = new IdempotencyStore(db, { clock, renewEveryMs: 0, exclusive: false, owner: 'worker-e' });
    const writer = new ImageWriter(db);
    const team = 'grocery';
    await store.begin({ team, key: 'k-ok', requestHash: 'h' });
    const blobs = Promise.withResolvers<void>();
    const ok = row(team, 'k-ok');
    const refused = row(team, 'k-never-begun');
    const plain = row(team, 'k-plain');
    // Three calls queued together behind one open transaction.
    const writes = [
      writer.write([ok], blobs.promise, fenceOf(store, team, 'k-ok', { imageIds: [ok.id] })),
      writer.write([refused], blobs.promise, fenceOf(store, team, 'k-never-begun', {})),
      writer.write([plain], blobs.promise),
    ];
    blobs.resolve();
    const settled = await Promise.allSettled(writes);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await rowsFor(team, 'k-ok')).toEqual([ok.id]);
    expect(await rowsFor(team, 'k-never-begun')).toEqual([]);
    expect(await rowsFor(team, 'k-plain')).toEqual([plain.id]);
  });
});
