import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PixelError } from '../protocol/errors.ts';
import { ApiKeyRepo, hashKey } from './api-keys.ts';
import type { Db, Queryable } from './db.ts';
import { exportToSnowflake } from './export/snowflake.ts';
import { IdempotencyStore } from './idempotency.ts';
import { newImageId } from './ids.ts';
import { ImageWriter } from './image-writer.ts';
import { type ImageRecord, ImageRepo, type NewImageRecord } from './images.ts';
import { applyMigrations, loadMigrations } from './migrate.ts';
import { sweepOrphanBlobs } from './sweeper.ts';

/** A catalogue backend the shared suite runs against. */
export interface CatalogTarget {
  name: string;
  /** Opens (and migrates) a new, empty catalogue; absent → the suite is skipped with `skipReason`. */
  create?: () => Promise<Db>;
  skipReason?: string;
}

let counter = 0;
/** Unique per call, so tests sharing one database never see each other's rows. */
function unique(label: string): string {
  counter++;
  return `${label}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function record(overrides: Partial<NewImageRecord> & { team: string }): NewImageRecord {
  const blob = overrides.blobKey ?? unique('blob');
  return {
    model: 'flux-dev',
    route: 'fal/fal-ai/flux/dev',
    provider: 'fal',
    blobKey: blob,
    sha256: sha(blob),
    byteSize: 1234,
    mediaType: 'image/png',
    width: 512,
    height: 512,
    prompt: 'butcher cut: ribeye steak',
    ...overrides,
  };
}

async function expectPixelError(
  promise: Promise<unknown>,
  field: string,
  reason?: string,
): Promise<PixelError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(PixelError.isInstance(error), `expected a PixelError, got ${String(error)}`).toBe(true);
  const pixel = error as PixelError;
  expect(pixel.field).toBe(field);
  if (reason) expect(pixel.reason).toBe(reason);
  return pixel;
}

export function catalogContract(target: CatalogTarget): void {
  const title = target.create
    ? `catalogue on ${target.name}`
    : `catalogue on ${target.name} (skipped: ${target.skipReason})`;
  describe.skipIf(!target.create)(title, () => {
    let db: Db;
    let images: ImageRepo;
    let keys: ApiKeyRepo;
    let idempotency: IdempotencyStore;

    beforeAll(async () => {
      db = await target.create!();
      images = new ImageRepo(db);
      keys = new ApiKeyRepo(db);
      idempotency = new IdempotencyStore(db);
    });
    afterAll(async () => {
      await db?.close();
    });

    describe('migrations', () => {
      it('are recorded in order, and applying them again is a no-op', async () => {
        const expected = loadMigrations().map((m) => m.version);
        const recorded = await db.query<{ version: number }>(
          'SELECT version FROM schema_migrations ORDER BY version',
        );
        expect(recorded.map((r) => Number(r.version))).toEqual(expected);
        expect(await applyMigrations(db)).toEqual([]);
        const again = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
        expect(again[0]!.n).toBe(expected.length);
      });
    });

    describe('images', () => {
      it('round-trips a full record with numbers as numbers and JSON as JSON', async () => {
        const team = unique('team');
        const parent = await images.insert(record({ team }));
        const inserted = await images.insert(
          record({
            team,
            application: 'butcher-cuts',
            appVersion: 3,
            negativePrompt: 'bones',
            seed: 4294967295,
            params: { cfgScale: 7, style: 'studio-product' },
            nativeRequest: { prompt: 'x', guidance_scale: 3.5, api_key: 'sk-live-abcdefghijkl' },
            report: { entries: [{ field: 'seed', outcome: 'applied' }] },
            costUsd: 0.025,
            latencyMs: 812,
            parentId: parent.id,
            judge: { passed: true, score: 0.9 },
            idempotencyKey: 'req-1',
          }),
        );
        const got = await images.get(inserted.id);
        expect(got).toEqual(inserted);
        expect(got!.id).toMatch(/^img_/);
        expect(got!.seed).toBe(4294967295);
        expect(got!.costUsd).toBeCloseTo(0.025, 6);
        expect(got!.appVersion).toBe(3);
        expect(got!.params).toEqual({ cfgScale: 7, style: 'studio-product' });
        expect(got!.report).toEqual({ entries: [{ field: 'seed', outcome: 'applied' }] });
        expect(got!.parentId).toBe(parent.id);
        expect(got!.status).toBe('stored');
        expect(got!.createdAt).toBeInstanceOf(Date);
        // credentials never reach the stored record
        expect(JSON.stringify(got!.nativeRequest)).not.toContain('sk-live');
        expect((got!.nativeRequest as Record<string, unknown>).guidance_scale).toBe(3.5);
      });

      it('keeps seed 0 as 0 and absent optional fields as null', async () => {
        const got = await images.insert(record({ team: unique('team'), seed: 0 }));
        expect(got.seed).toBe(0);
        expect(got.negativePrompt).toBeNull();
        expect(got.costUsd).toBeNull();
        expect(got.params).toEqual({});
      });

      it('rejects bad records with the field named', async () => {
        await expectPixelError(images.insert(record({ team: unique('t'), sha256: 'nothex' })), 'sha256');
        await expectPixelError(images.insert(record({ team: unique('t'), id: 'img_nope' })), 'id');
        await expectPixelError(images.insert(record({ team: '' })), 'team');
        await expectPixelError(images.insert(record({ team: unique('t'), width: -1 })), 'width');
      });

      it('insertMany writes several rows in one statement and returns them as get reads them', async () => {
        const team = unique('team');
        const written = await images.insertMany([
          record({
            team,
            seed: 4294967295,
            costUsd: 0.0123456789,
            params: { cfgScale: 7, when: new Date(1_767_225_600_000) },
            nativeRequest: { prompt: 'x', api_key: 'sk-live-abcdefghijkl', nested: { b: 1, a: [1, 2] } },
            report: [{ param: 'seed', status: 'native' }],
            judge: { passed: true },
          }),
          record({ team, negativePrompt: 'bones', appVersion: 2, application: 'produce' }),
        ]);
        expect(written).toHaveLength(2);
        for (const row of written) expect(await images.get(row.id)).toEqual(row);
        // numeric(14, 6) rounding comes back from the database, not from what was sent
        expect(written[0]!.costUsd).toBeCloseTo(0.012346, 9);
        expect(JSON.stringify(written[0]!.nativeRequest)).not.toContain('sk-live');
        expect(await images.insertMany([])).toEqual([]);
      });

      it('insertMany is all or nothing', async () => {
        const team = unique('team');
        const taken = await images.insert(record({ team }));
        const fresh = newImageId();
        await expect(
          images.insertMany([record({ team, id: fresh }), record({ team, id: taken.id })]),
        ).rejects.toThrow();
        expect(await images.get(fresh)).toBeUndefined();
        await expectPixelError(
          images.insertMany([record({ team, id: newImageId() }), record({ team, width: -1 })]),
          'width',
        );
      });

      it('the image writer groups concurrent writes and keeps each call all or nothing', async () => {
        const team = unique('team');
        let inserts = 0;
        const counted = (q: Queryable): Queryable => ({
          query: (sql, params) => {
            if (sql.startsWith('INSERT INTO images')) inserts++;
            return q.query(sql, params);
          },
          exec: (sql) => q.exec(sql),
        });
        const counting: Db = {
          ...db,
          ...counted(db),
          transaction: (fn) => db.transaction((tx) => fn(counted(tx))),
        };
        const writer = new ImageWriter(counting);
        const calls = Array.from({ length: 10 }, (_, i) =>
          writer.write([record({ team, prompt: `call ${i} a` }), record({ team, prompt: `call ${i} b` })]),
        );
        const results = await Promise.all(calls);
        results.forEach((rows, i) => {
          expect(rows.map((r) => r.prompt)).toEqual([`call ${i} a`, `call ${i} b`]);
        });
        expect(inserts).toBeLessThan(10);
        expect((await images.list({ team, limit: 100 })).images).toHaveLength(20);

        // One call with a bad row among concurrent good ones: only that call fails, and none of its rows exist.
        const taken = results[0]![0]!.id;
        const lonely = newImageId();
        const mixed = await Promise.allSettled([
          writer.write([record({ team, prompt: 'good 1' })]),
          writer.write([record({ team, id: lonely }), record({ team, id: taken })]),
          writer.write([record({ team, prompt: 'good 2' })]),
        ]);
        expect(mixed.map((m) => m.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect(await images.get(lonely)).toBeUndefined();
        expect((await images.list({ team, limit: 100 })).images).toHaveLength(22);
      });

      it('the image writer commits rows only once their blobs are stored, and a failed blob fails only its call', async () => {
        const team = unique('team');
        const writer = new ImageWriter(db);
        let storeBlob!: () => void;
        const blobStored = new Promise<void>((resolve) => {
          storeBlob = resolve;
        });
        const id = newImageId();
        const pending = writer.write([record({ team, id, prompt: 'waits for its blob' })], blobStored);
        await new Promise((resolve) => setTimeout(resolve, 30));
        // A reader meanwhile either does not see the row (a server: not committed) or waits for the
        // commit (PGlite: one connection); it never sees the row before the blob is stored.
        let stored = false;
        const reader = images.get(id).then((row) => ({ row, stored }));
        await new Promise((resolve) => setTimeout(resolve, 30));
        stored = true;
        storeBlob();
        expect((await pending).map((r) => r.id)).toEqual([id]);
        const seen = await reader;
        if (seen.row) expect(seen.stored).toBe(true);
        expect((await images.get(id))?.prompt).toBe('waits for its blob');

        const lost = newImageId();
        const outcomes = await Promise.allSettled([
          writer.write([record({ team, prompt: 'fine 1' })]),
          writer.write([record({ team, id: lost })], Promise.reject(new Error('disk full'))),
          writer.write([record({ team, prompt: 'fine 2' })]),
        ]);
        expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe('disk full');
        expect(await images.get(lost)).toBeUndefined();
        expect((await images.list({ team, limit: 10 })).images.map((i) => i.prompt).sort()).toEqual([
          'fine 1',
          'fine 2',
          'waits for its blob',
        ]);
      });

      it('scopes get and list by team', async () => {
        const mine = unique('team');
        const theirs = unique('team');
        const a = await images.insert(record({ team: mine }));
        const b = await images.insert(record({ team: theirs }));
        expect((await images.get(a.id, { team: mine }))?.id).toBe(a.id);
        expect(await images.get(b.id, { team: mine })).toBeUndefined();
        expect(await images.get(newImageId())).toBeUndefined();
        expect(await images.get('../../etc/passwd')).toBeUndefined();
        const listed = await images.list({ team: mine, limit: 100 });
        expect(listed.images.map((i) => i.id)).toEqual([a.id]);
      });

      it('filters by application, model or route, status and time', async () => {
        const team = unique('team');
        const t0 = Date.UTC(2026, 0, 1);
        const a = await images.insert(record({ team, application: 'produce', createdAt: new Date(t0) }));
        const b = await images.insert(
          record({
            team,
            application: 'butcher-cuts',
            model: 'openai/gpt-image-1.5',
            route: 'openai/gpt-image-1.5',
            createdAt: new Date(t0 + 1000),
          }),
        );
        const c = await images.insert(
          record({ team, application: 'produce', status: 'rejected', createdAt: new Date(t0 + 2000) }),
        );
        const ids = async (o: Parameters<ImageRepo['list']>[0]) =>
          (await images.list(o)).images.map((i) => i.id);
        expect(await ids({ team, application: 'produce', limit: 10 })).toEqual([c.id, a.id]);
        expect(await ids({ team, model: 'openai/gpt-image-1.5', limit: 10 })).toEqual([b.id]);
        expect(await ids({ team, model: 'fal/fal-ai/flux/dev', limit: 10 })).toEqual([c.id, a.id]);
        expect(await ids({ team, status: 'rejected', limit: 10 })).toEqual([c.id]);
        expect(await ids({ team, createdAfter: new Date(t0 + 1000), limit: 10 })).toEqual([c.id, b.id]);
        expect(await ids({ team, createdBefore: new Date(t0 + 1000), limit: 10 })).toEqual([a.id]);
      });

      it('paginates newest first across pages with no duplicates or gaps, even while rows are inserted', async () => {
        const team = unique('team');
        const base = Date.UTC(2026, 5, 1);
        const inserted: ImageRecord[] = [];
        // 23 rows; several share a millisecond so the id must break ties.
        for (let i = 0; i < 23; i++) {
          inserted.push(
            await images.insert(record({ team, createdAt: new Date(base + Math.floor(i / 3) * 1000) })),
          );
        }
        const expected = [...inserted]
          .sort((x, y) => y.createdAt.getTime() - x.createdAt.getTime() || (y.id < x.id ? -1 : 1))
          .map((r) => r.id);
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 10; page++) {
          const result = await images.list({ team, limit: 5, cursor });
          seen.push(...result.images.map((r) => r.id));
          // newer rows arriving between pages must not disturb what follows
          await images.insert(record({ team, createdAt: new Date(base + 3_600_000 + page) }));
          cursor = result.nextCursor;
          if (!cursor) break;
        }
        expect(seen).toEqual(expected);
        await expectPixelError(images.list({ team, limit: 5, cursor: 'not-a-cursor' }), 'cursor');
        await expectPixelError(images.list({ team, limit: 0 }), 'limit');
        await expectPixelError(images.list({ team, limit: 5000 }), 'limit');
      });

      it('soft-deletes within the team; the blob stays referenced only while a live row shares it', async () => {
        const team = unique('team');
        const shared = unique('blob');
        const a = await images.insert(record({ team, blobKey: shared }));
        const b = await images.insert(record({ team, blobKey: shared }));
        expect(await images.delete(a.id, { team: unique('other') })).toBe(false);
        expect(await images.get(a.id)).toBeDefined();
        expect(await images.delete(a.id, { team })).toBe(true);
        expect(await images.delete(a.id, { team })).toBe(false);
        expect(await images.get(a.id)).toBeUndefined();
        const kept = await images.get(a.id, { includeDeleted: true });
        expect(kept?.status).toBe('deleted');
        expect(kept?.deletedAt).toBeInstanceOf(Date);
        expect(kept?.blobKey).toBe(shared);
        expect((await images.list({ team, limit: 10 })).images.map((i) => i.id)).toEqual([b.id]);
        expect((await images.list({ team, status: 'deleted', limit: 10 })).images.map((i) => i.id)).toEqual([
          a.id,
        ]);
        expect(await images.isBlobReferenced(shared)).toBe(true);
        await images.delete(b.id, { team });
        expect(await images.isBlobReferenced(shared)).toBe(false);
      });
    });

    describe('api keys', () => {
      it('bootstraps one admin key when there is none, once', async () => {
        const first = await keys.ensureBootstrapAdmin();
        expect(first?.created).toBe(true);
        expect(first?.key).toMatch(/^pxl_[A-Za-z0-9_-]{43}$/);
        expect(await keys.ensureBootstrapAdmin()).toBeUndefined();
        expect(await keys.verify(first!.key!)).toEqual({ id: first!.id, team: 'admin', role: 'admin' });
      });

      it('makes sure PIXEL_ADMIN_KEY exists as an admin, even with two processes at once', async () => {
        const envKey = `env-admin-${unique('k')}-0123456789`;
        const results = await Promise.all([
          keys.ensureBootstrapAdmin(envKey),
          keys.ensureBootstrapAdmin(envKey),
        ]);
        expect(results.filter((r) => r?.created).length).toBe(1);
        expect(results.every((r) => r?.key === undefined)).toBe(true);
        const verified = await keys.verify(envKey);
        expect(verified?.team).toBe('admin');
        expect(verified?.role).toBe('admin');
        expect((await keys.ensureBootstrapAdmin(envKey))?.created).toBe(false);
        await expectPixelError(keys.ensureBootstrapAdmin('short'), 'PIXEL_ADMIN_KEY');
      });

      it('stores only the hash, verifies, lists without secrets, and revokes', async () => {
        const team = unique('team');
        const created = await keys.createKey({ team, role: 'member', name: 'ci' });
        expect(created.key).toMatch(/^pxl_[A-Za-z0-9_-]{43}$/);
        expect(created.key.startsWith(created.prefix)).toBe(true);

        const raw = await db.query<Record<string, unknown>>('SELECT * FROM api_keys WHERE id = $1', [
          created.id,
        ]);
        expect(raw[0]!.key_hash).toBe(createHash('sha256').update(created.key).digest('hex'));
        expect(raw[0]!.key_hash).toBe(hashKey(created.key));
        expect(JSON.stringify(raw)).not.toContain(created.key.slice(4));
        expect(raw[0]!.last_used_at).toBeNull();

        expect(await keys.verify(created.key)).toEqual({ id: created.id, team, role: 'member' });
        const used = await db.query<Record<string, unknown>>(
          'SELECT last_used_at FROM api_keys WHERE id = $1',
          [created.id],
        );
        expect(used[0]!.last_used_at).not.toBeNull();
        expect(await keys.verify(`${created.key}x`)).toBeUndefined();
        expect(await keys.verify('')).toBeUndefined();

        const listed = await keys.list({ team });
        expect(listed.map((k) => k.id)).toEqual([created.id]);
        const text = JSON.stringify(listed);
        expect(text).not.toContain(created.key);
        expect(text).not.toContain(hashKey(created.key));
        expect(Object.keys(listed[0]!)).not.toContain('keyHash');

        expect(await keys.revoke(created.id, { team: unique('other') })).toBe(false);
        expect(await keys.revoke(created.id)).toBe(true);
        expect(await keys.verify(created.key)).toBeUndefined();
        expect(await keys.revoke(created.id)).toBe(false);
        expect((await keys.list({ team, includeRevoked: false })).length).toBe(0);
        expect((await keys.list({ team }))[0]!.revokedAt).toBeInstanceOf(Date);
      });

      it('caches verified keys when asked, and drops them at once on a revoke in this process', async () => {
        let lookups = 0;
        const counting: Db = {
          ...db,
          query: (sql, params) => {
            if (sql.includes('FROM api_keys WHERE key_hash')) lookups++;
            return db.query(sql, params);
          },
        };
        const cached = new ApiKeyRepo(counting, { verifyCacheMs: 60_000 });
        const created = await keys.createKey({ team: unique('team'), role: 'member' });
        const first = await cached.verify(created.key);
        expect(first).toMatchObject({ id: created.id, role: 'member' });
        expect(await cached.verify(created.key)).toEqual(first);
        expect(lookups).toBe(1);
        // Unknown keys are never cached: every attempt is looked up.
        await cached.verify('pxl_not_a_real_key_at_all_0000');
        await cached.verify('pxl_not_a_real_key_at_all_0000');
        expect(lookups).toBe(3);
        // Revoked through another repo instance (as the server's own admin routes or a test would).
        await keys.revoke(created.id);
        expect(await cached.verify(created.key)).toBeUndefined();
        // Without the option every verify asks the catalogue.
        const plain = new ApiKeyRepo(counting);
        const other = await keys.createKey({ team: unique('team'), role: 'viewer' });
        const before = lookups;
        await plain.verify(other.key);
        await plain.verify(other.key);
        expect(lookups).toBe(before + 2);
      });

      it('rejects a bad role or team with the field named', async () => {
        await expectPixelError(keys.createKey({ team: 'x', role: 'owner' as 'admin', name: '' }), 'role');
        await expectPixelError(keys.createKey({ team: 'Bad Team!', role: 'viewer' }), 'team');
      });
    });

    describe('idempotency', () => {
      it('runs once, then replays the stored response', async () => {
        const team = unique('team');
        const key = unique('idem');
        expect(await idempotency.begin({ team, key, requestHash: 'h1' })).toEqual({ state: 'new' });
        expect(await idempotency.begin({ team, key, requestHash: 'h1' })).toEqual({ state: 'in_progress' });
        expect(await idempotency.complete(team, key, { images: [{ id: 'img_1' }] })).toBe(true);
        expect(await idempotency.begin({ team, key, requestHash: 'h1' })).toEqual({
          state: 'replay',
          response: { images: [{ id: 'img_1' }] },
        });
        // the same key in another team is another record
        expect(await idempotency.begin({ team: unique('team'), key, requestHash: 'h2' })).toEqual({
          state: 'new',
        });
      });

      it('refuses the same key with a different body', async () => {
        const team = unique('team');
        const key = unique('idem');
        await idempotency.begin({ team, key, requestHash: 'h1' });
        const error = await expectPixelError(
          idempotency.begin({ team, key, requestHash: 'h2' }),
          'idempotency_key',
          'idempotency_mismatch',
        );
        expect(error.code).toBe('invalid_argument');
        await expectPixelError(idempotency.begin({ team, key: '', requestHash: 'h' }), 'idempotency_key');
      });

      it('lets a retry run after abandon', async () => {
        const team = unique('team');
        const key = unique('idem');
        await idempotency.begin({ team, key, requestHash: 'h1' });
        await idempotency.abandon(team, key);
        expect(await idempotency.begin({ team, key, requestHash: 'h1' })).toEqual({ state: 'new' });
      });

      it('has exactly one winner among concurrent begins', async () => {
        const team = unique('team');
        const key = unique('idem');
        const results = await Promise.all(
          Array.from({ length: 8 }, () => idempotency.begin({ team, key, requestHash: 'same' })),
        );
        expect(results.filter((r) => r.state === 'new').length).toBe(1);
        expect(results.filter((r) => r.state === 'in_progress').length).toBe(7);
      });

      it('replaces an expired record, and takes over a stale pending one', async () => {
        const team = unique('team');
        const key = unique('idem');
        await idempotency.begin({ team, key, requestHash: 'old' });
        await idempotency.complete(team, key, { old: true });
        await db.query(
          `UPDATE idempotency SET expires_at = now() - interval '1 second' WHERE team = $1 AND key = $2`,
          [team, key],
        );
        expect(await idempotency.begin({ team, key, requestHash: 'new' })).toEqual({ state: 'new' });
        // a pending record whose process died is taken over by a retry of the same request
        await db.query(
          `UPDATE idempotency SET created_at = now() - interval '1 hour' WHERE team = $1 AND key = $2`,
          [team, key],
        );
        expect(await idempotency.begin({ team, key, requestHash: 'new' })).toEqual({ state: 'new' });
        await db.query(
          `UPDATE idempotency SET expires_at = now() - interval '1 second' WHERE team = $1 AND key = $2`,
          [team, key],
        );
        expect(await idempotency.purgeExpired()).toBeGreaterThanOrEqual(1);
      });
    });

    describe('orphan sweeper', () => {
      it('removes old blobs no live row references and keeps referenced and fresh ones', async () => {
        const team = unique('team');
        const now = new Date(Date.UTC(2026, 10, 30, 12));
        const old = new Date(now.getTime() - 3_600_000);
        const fresh = new Date(now.getTime() - 5_000);
        const referenced = unique('blob');
        const orphan = unique('blob');
        const freshOrphan = unique('blob');
        const deletedRowBlob = unique('blob');
        await images.insert(record({ team, blobKey: referenced }));
        const gone = await images.insert(record({ team, blobKey: deletedRowBlob }));
        await images.delete(gone.id, { team });
        // an in-memory store with the BlobStore's list/delete shape
        const blobs = new Map<string, Date>([
          [referenced, old],
          [orphan, old],
          [freshOrphan, fresh],
          [deletedRowBlob, old],
        ]);
        const store = {
          async *list() {
            for (const [key, lastModified] of [...blobs]) yield { key, lastModified };
          },
          async delete(key: string) {
            blobs.delete(key);
          },
        };
        const result = await sweepOrphanBlobs({ store, images, olderThanMs: 600_000, now, batchSize: 2 });
        expect(result.scanned).toBe(4);
        expect(result.deleted).toBe(2);
        expect([...blobs.keys()].sort()).toEqual([referenced, freshOrphan].sort());
        expect(result.deletedKeys.sort()).toEqual([orphan, deletedRowBlob].sort());
      });
    });

    describe('snowflake export', () => {
      type Line = Record<string, unknown> & { id: string; version: number; change: string };
      const memorySink = () => {
        const files = new Map<string, { text: string; contentType: string }>();
        return {
          files,
          async put(key: string, bytes: Uint8Array, contentType: string) {
            files.set(key, { text: new TextDecoder().decode(bytes), contentType });
          },
          lines(prefix: string, keys?: string[]): Line[] {
            return [...files.entries()]
              .filter(([k]) => k.startsWith(`${prefix}/changes/`) && (keys === undefined || keys.includes(k)))
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .flatMap(([, f]) =>
                f.text
                  .trimEnd()
                  .split('\n')
                  .map((line) => JSON.parse(line) as Line),
              );
          },
        };
      };
      const changeCount = async () =>
        (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM image_changes'))[0]!.n;

      it('lands DDL once and every change exactly once across runs, with no secrets', async () => {
        const sink = memorySink();
        const prefix = `exports/${unique('sf')}`;
        const team = unique('team');
        const past = Date.now() - 3_600_000;
        const mine: ImageRecord[] = [];
        for (let i = 0; i < 5; i++)
          mine.push(await images.insert(record({ team, createdAt: new Date(past + i) })));
        // a row written around insert()'s scrubbing, to prove the export scrubs on its own
        const leaky = newImageId();
        await db.query(
          `INSERT INTO images (id, team, model, route, provider, blob_key, sha256, byte_size, media_type, width, height,
             prompt, native_request, idempotency_key, created_at)
           VALUES ($1, $2, 'm', 'r', 'p', 'k', $3, 1, 'image/png', 1, 1, 'Bearer abcdefghijklmnop', $4::jsonb, 'idem-secret-key', $5)`,
          [
            leaky,
            team,
            sha('x'),
            JSON.stringify({ headers: { Authorization: 'Bearer abcdefghijklmnop' } }),
            new Date(past + 10),
          ],
        );
        const total = await changeCount();

        const first = await exportToSnowflake({ db, sink, prefix, batchSize: 4, format: 'ndjson' });
        expect(first.rows).toBe(total);
        expect(first.batches).toBe(Math.ceil(total / 4));
        for (const name of ['images.sql', 'copy_into.sql', 'merge.sql', 'pipe.sql'])
          expect(sink.files.has(`${prefix}/ddl/${name}`)).toBe(true);
        const ddl = (name: string) => sink.files.get(`${prefix}/ddl/${name}`)!.text;
        expect(ddl('images.sql')).toMatch(
          /CREATE TABLE IF NOT EXISTS PIXEL_IMAGES \([\s\S]*params VARIANT[\s\S]*version NUMBER[\s\S]*CREATE TABLE IF NOT EXISTS PIXEL_IMAGE_CHANGES \([\s\S]*version NUMBER\(10,0\) NOT NULL[\s\S]*change STRING[\s\S]*PRIMARY KEY \(id, version\)/,
        );
        expect(ddl('copy_into.sql')).toMatch(
          /TYPE = JSON[\s\S]*CREATE STAGE[\s\S]*COPY INTO PIXEL_IMAGE_CHANGES[\s\S]*\$1:seed::NUMBER[\s\S]*\$1:change::STRING/,
        );
        expect(ddl('merge.sql')).toMatch(
          /MERGE INTO PIXEL_IMAGES AS t[\s\S]*FROM PIXEL_IMAGE_CHANGES[\s\S]*QUALIFY ROW_NUMBER\(\) OVER \(PARTITION BY id ORDER BY version DESC\) = 1[\s\S]*WHEN MATCHED AND \(t.version IS NULL OR s.version > t.version\) THEN UPDATE SET[\s\S]*status = s.status[\s\S]*WHEN NOT MATCHED THEN INSERT/,
        );
        expect(ddl('pipe.sql')).toMatch(
          /CREATE PIPE[\s\S]*AUTO_INGEST = TRUE[\s\S]*COPY INTO PIXEL_IMAGE_CHANGES[\s\S]*CREATE STREAM[\s\S]*CREATE TASK[\s\S]*SYSTEM\$STREAM_HAS_DATA[\s\S]*MERGE INTO PIXEL_IMAGES/,
        );

        // more rows, then a second and third run: only the new changes, and then nothing
        const later: ImageRecord[] = [];
        for (let i = 0; i < 3; i++) later.push(await images.insert(record({ team })));
        const ddlCount = [...sink.files.keys()].filter((k) => k.includes('/ddl/')).length;
        const second = await exportToSnowflake({ db, sink, prefix, batchSize: 4, format: 'ndjson' });
        expect(second.rows).toBe(3);
        expect(second.keys.some((k) => k.includes('/ddl/'))).toBe(false);
        expect([...sink.files.keys()].filter((k) => k.includes('/ddl/')).length).toBe(ddlCount);
        const third = await exportToSnowflake({ db, sink, prefix, batchSize: 4, format: 'ndjson' });
        expect(third).toMatchObject({ rows: 0, batches: 0 });
        expect(third.cursor).toEqual(second.cursor);

        for (const [key, file] of sink.files) {
          if (!key.startsWith(`${prefix}/changes/`)) continue;
          expect(key).toMatch(/\/changes\/\d{20}-\d{20}\.ndjson$/);
          expect(file.contentType).toBe('application/x-ndjson');
        }
        const rows = sink.lines(prefix);
        const changes = rows.map((r) => `${r.id}@${r.version}`);
        expect(new Set(changes).size).toBe(changes.length);
        expect(changes.length).toBe(total + 3);
        for (const r of [...mine, ...later]) expect(changes.filter((c) => c === `${r.id}@1`)).toHaveLength(1);
        expect(rows.find((r) => r.id === mine[0]!.id)).toMatchObject({
          team,
          width: 512,
          byte_size: 1234,
          version: 1,
          change: 'insert',
          status: 'stored',
          created_at: mine[0]!.createdAt.toISOString(),
          deleted_at: null,
        });
        const all = [...sink.files.values()].map((f) => f.text).join('\n');
        expect(all).not.toContain('abcdefghijklmnop');
        expect(all).not.toContain('idem-secret-key');
        expect(rows.map((r) => r.id)).toContain(leaky);
      });

      it('a deleted or re-reviewed image reaches the export as a new version, once per change', async () => {
        const sink = memorySink();
        const prefix = `exports/${unique('sf')}`;
        const team = unique('team');
        const [gone, reviewed, untouched] = [
          await images.insert(record({ team })),
          await images.insert(record({ team })),
          await images.insert(record({ team })),
        ];
        await exportToSnowflake({ db, sink, prefix, batchSize: 1000, format: 'ndjson' });

        expect(await images.delete(gone!.id, { team })).toBe(true);
        await images.updateEvaluation(reviewed!.id, { review: { verdict: 'approved' } });
        await images.updateEvaluation(reviewed!.id, { review: { verdict: 'rejected' }, status: 'rejected' });
        // An UPDATE that changes nothing is no change.
        await db.query('UPDATE images SET team = team WHERE id = $1', [untouched!.id]);
        const run = await exportToSnowflake({ db, sink, prefix, batchSize: 2, format: 'ndjson' });
        expect(run.rows).toBe(3);
        const exported = sink.lines(prefix, run.keys);
        expect(exported.map((r) => [r.id, r.version, r.change])).toEqual([
          [gone!.id, 2, 'delete'],
          [reviewed!.id, 2, 'update'],
          [reviewed!.id, 3, 'update'],
        ]);
        expect(exported[0]).toMatchObject({ status: 'deleted', deleted_at: expect.any(String) });
        expect(exported[1]!.review).toEqual({ verdict: 'approved' });
        expect(exported[2]).toMatchObject({ status: 'rejected', review: { verdict: 'rejected' } });
        expect(typeof exported[2]!.changed_at).toBe('string');

        // The versions live on the rows too, and nothing is exported twice.
        const versions = await db.query<{ id: string; version: number }>(
          'SELECT id, version FROM images WHERE id = ANY($1::text[]) ORDER BY id',
          [[gone!.id, reviewed!.id, untouched!.id]],
        );
        expect(Object.fromEntries(versions.map((v) => [v.id, v.version]))).toEqual({
          [gone!.id]: 2,
          [reviewed!.id]: 3,
          [untouched!.id]: 1,
        });
        expect(await exportToSnowflake({ db, sink, prefix, batchSize: 2, format: 'ndjson' })).toMatchObject({
          rows: 0,
        });
        await expectPixelError(
          exportToSnowflake({ db, sink, prefix: '../x', batchSize: 10, format: 'ndjson' }),
          'prefix',
        );
        await expectPixelError(
          exportToSnowflake({ db, sink, prefix, batchSize: 0, format: 'ndjson' }),
          'batchSize',
        );
      });

      it('waits for a transaction still running: its change is exported after it commits, never skipped', async (ctx) => {
        // Two transactions at once need two connections: PostgreSQL only (PGlite has one).
        if (db.kind !== 'postgres') ctx.skip();
        const sink = memorySink();
        const prefix = `exports/${unique('sf')}`;
        const team = unique('team');
        await exportToSnowflake({ db, sink, prefix, batchSize: 1000, format: 'ndjson' });
        const release = Promise.withResolvers<void>();
        const inserted = Promise.withResolvers<string>();
        // The slow transaction writes first (the older xid), then stays open.
        const slow = db.transaction(async (tx) => {
          const id = newImageId();
          await tx.query(
            `INSERT INTO images (id, team, model, route, provider, blob_key, sha256, byte_size, media_type, width, height, prompt)
             VALUES ($1, $2, 'm', 'r', 'p', 'k', $3, 1, 'image/png', 1, 1, 'slow')`,
            [id, team, sha(id)],
          );
          inserted.resolve(id);
          await release.promise;
          return id;
        });
        const slowId = await inserted.promise;
        const quick = await images.insert(record({ team }));
        const during = await exportToSnowflake({ db, sink, prefix, batchSize: 1000, format: 'ndjson' });
        expect(during.rows).toBe(0); // the quick change is newer than the running one: it waits too
        release.resolve();
        await slow;
        const after = await exportToSnowflake({ db, sink, prefix, batchSize: 1000, format: 'ndjson' });
        expect(sink.lines(prefix, after.keys).map((r) => r.id)).toEqual([slowId, quick.id]);
      });
    });
  });
}
