import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseApplicationText } from '../apps/load.ts';
import { Applications } from '../apps/service.ts';
import { ADMIN, copyOfShippedApps, MEMBER, OTHER_MEMBER, VIEWER } from '../apps/testing.ts';
import { loadCatalog } from '../models/catalog.ts';
import { PixelError } from '../protocol/errors.ts';
import { AppVersionRepo } from './app-versions.ts';
import { type Db, openDatabase } from './db.ts';
import { createTestDatabase } from './testing/postgres-server.ts';

const catalog = loadCatalog();

async function rejection(promise: Promise<unknown>): Promise<PixelError> {
  try {
    await promise;
  } catch (error) {
    if (PixelError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a PixelError');
}

/** The shipped butcher-cuts profile with its template changed: a realistic edit. */
function editedButcher(dir: string, marker: string): string {
  const text = readFileSync(join(dir, 'butcher-cuts.yaml'), 'utf8');
  return text.replace('Professional top-down product photograph', `${marker} top-down product photograph`);
}

describe('application versions and labels', () => {
  let db: Db;
  let dir: string;
  let apps: Applications;

  beforeAll(async () => {
    db = await openDatabase({ memory: true });
    dir = copyOfShippedApps();
    apps = new Applications({ versions: new AppVersionRepo(db), catalog, dir });
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the file defaults as versions once; loading again changes nothing', async () => {
    const first = await apps.syncFileDefaults();
    expect(first.errors).toEqual([]);
    expect(first.loaded.map((l) => l.name).sort()).toEqual([
      'butcher-cuts',
      'lifestyle-carousel',
      'packaged-goods',
      'prepared-foods',
      'produce',
    ]);
    expect(first.loaded.every((l) => l.created && l.version === 1)).toBe(true);
    // A second process (a new Applications over the same DB) loads the same files: no new version.
    const again = await new Applications({
      versions: new AppVersionRepo(db),
      catalog,
      dir,
    }).syncFileDefaults();
    expect(again.loaded.every((l) => !l.created && l.version === 1)).toBe(true);
    expect((await apps.store.versions('butcher-cuts')).length).toBe(1);
    const audit = await apps.store.audit('butcher-cuts');
    expect(audit.filter((a) => a.action === 'load')).toHaveLength(1);
  });

  it('resolves team label, then production, then the file default', async () => {
    const v2 = await apps.update('butcher-cuts', editedButcher(dir, 'PRODUCTION'), ADMIN, {
      label: 'production',
      message: 'tighter framing',
    });
    const v3 = await apps.update('butcher-cuts', editedButcher(dir, 'GROWTH'), MEMBER, {
      label: 'team:growth',
      message: 'growth override',
    });
    expect([v2.version, v3.version]).toEqual([2, 3]);

    const growth = await apps.store.resolveVersion('butcher-cuts', { team: 'growth' });
    expect([growth.record.version, growth.via]).toEqual([3, 'team:growth']);
    const other = await apps.store.resolveVersion('butcher-cuts', { team: 'fresh' });
    expect([other.record.version, other.via]).toEqual([2, 'production']);
    const noLabels = await apps.store.resolveVersion('produce', { team: 'growth' });
    expect([noLabels.record.version, noLabels.via]).toEqual([1, 'default']);
    // explicit label or version wins; an unknown label is an error, not a silent fallback
    expect(
      (await apps.store.resolveVersion('butcher-cuts', { team: 'growth', label: 'production' })).record
        .version,
    ).toBe(2);
    expect((await apps.store.resolveVersion('butcher-cuts', { version: 1 })).record.version).toBe(1);
    expect((await apps.store.resolveVersion('butcher-cuts', { label: 'latest' })).record.version).toBe(3);
    expect((await apps.store.resolveVersion('butcher-cuts', { label: 'default' })).record.version).toBe(1);
    const unknown = await rejection(apps.store.resolveVersion('butcher-cuts', { label: 'staging' }));
    expect([unknown.code, unknown.field]).toEqual(['not_found', 'appLabel']);
    const typo = await rejection(apps.store.resolveVersion('butcher-cut'));
    expect(typo.code).toBe('not_found');
    expect(typo.message).toContain('did you mean butcher-cuts');
  });

  it('a changed file loads as a new version without overwriting edits or moving labels', async () => {
    writeFileSync(join(dir, 'butcher-cuts.yaml'), editedButcher(dir, 'FILE-V2'));
    const sync = await new Applications({
      versions: new AppVersionRepo(db),
      catalog,
      dir,
    }).syncFileDefaults();
    const butcher = sync.loaded.find((l) => l.name === 'butcher-cuts')!;
    expect(butcher.created).toBe(true);
    const newDefault = butcher.version;
    expect((await apps.store.resolveVersion('butcher-cuts', { team: 'fresh' })).record.version).toBe(2); // production kept
    expect((await apps.store.resolveVersion('butcher-cuts', { label: 'default' })).record.version).toBe(
      newDefault,
    );
    expect((await apps.store.getVersion('butcher-cuts', 2))!.profile.template).toContain('PRODUCTION');
  });

  it('rollback moves a label back step by step, or to a named version', async () => {
    const a = await apps.update('produce', editedProduce(dir, 'A'), ADMIN, { label: 'production' });
    const b = await apps.update('produce', editedProduce(dir, 'B'), ADMIN, { label: 'production' });
    const c = await apps.update('produce', editedProduce(dir, 'C'), ADMIN, { label: 'production' });
    const current = async () => (await apps.store.resolveVersion('produce')).record.version;
    expect(await current()).toBe(c.version);
    expect(await apps.rollback('produce', ADMIN)).toEqual({
      label: 'production',
      from: c.version,
      to: b.version,
    });
    expect(await current()).toBe(b.version);
    expect((await apps.rollback('produce', ADMIN)).to).toBe(a.version);
    const none = await rejection(apps.rollback('produce', ADMIN));
    expect(none.code).toBe('failed_precondition');
    expect((await apps.rollback('produce', ADMIN, { to: c.version })).to).toBe(c.version);
    expect(await current()).toBe(c.version);
    // the versions themselves never change
    expect((await apps.store.versions('produce')).length).toBe(4);
    const actions = (await apps.store.audit('produce')).map((e) => e.action);
    expect(actions.filter((x) => x === 'rollback')).toHaveLength(3);
  });

  it('two concurrent edits give two versions and lose nothing', async () => {
    const [x, y] = await Promise.all([
      apps.update('prepared-foods', editedPrepared(dir, 'EDIT-X'), ADMIN, { message: 'x' }),
      apps.update('prepared-foods', editedPrepared(dir, 'EDIT-Y'), ADMIN, { message: 'y' }),
    ]);
    expect(new Set([x.version, y.version]).size).toBe(2);
    const versions = await apps.store.versions('prepared-foods');
    const templates = versions.map((v) => v.profile.template);
    expect(templates.some((t) => t.includes('EDIT-X'))).toBe(true);
    expect(templates.some((t) => t.includes('EDIT-Y'))).toBe(true);
    expect(versions.map((v) => v.version).sort()).toEqual([1, 2, 3]);
  });

  it('permissions: members edit only their team override, admins move production, viewers read', async () => {
    const text = editedButcher(dir, 'PERM');
    expect((await rejection(apps.update('butcher-cuts', text, MEMBER, { label: 'production' }))).code).toBe(
      'permission_denied',
    );
    expect((await rejection(apps.update('butcher-cuts', text, MEMBER))).code).toBe('permission_denied');
    expect((await rejection(apps.update('butcher-cuts', text, MEMBER, { label: 'team:fresh' }))).code).toBe(
      'permission_denied',
    );
    expect((await rejection(apps.label('butcher-cuts', 'production', 1, MEMBER))).code).toBe(
      'permission_denied',
    );
    expect((await rejection(apps.label('butcher-cuts', 'team:growth', 1, OTHER_MEMBER))).code).toBe(
      'permission_denied',
    );
    expect((await rejection(apps.update('butcher-cuts', text, VIEWER, { label: 'team:growth' }))).code).toBe(
      'permission_denied',
    );
    expect((await rejection(apps.rollback('butcher-cuts', VIEWER))).code).toBe('permission_denied');
    // allowed: a member moves their own team label, a viewer reads
    await apps.label('butcher-cuts', 'team:growth', 1, MEMBER);
    expect((await apps.get('butcher-cuts', VIEWER)).version.version).toBe(1); // viewer of team growth sees the growth override
    await apps.label('butcher-cuts', 'production', 1, ADMIN);
    // virtual labels cannot be moved by anyone
    expect((await rejection(apps.label('butcher-cuts', 'latest', 1, ADMIN))).code).toBe('invalid_argument');
    // a member cannot create a new application
    const fresh = text.replace('name: butcher-cuts', 'name: new-app');
    expect((await rejection(apps.update('new-app', fresh, MEMBER, { label: 'team:growth' }))).code).toBe(
      'permission_denied',
    );
    expect(await apps.store.exists('new-app')).toBe(false);
  });

  it('records who changed what and when', async () => {
    const audit = await apps.store.audit('butcher-cuts');
    const growthCreate = audit.find((e) => e.action === 'create' && e.actor === 'bob');
    expect(growthCreate).toMatchObject({
      actorTeam: 'growth',
      actorRole: 'member',
      version: 3,
      message: 'growth override',
    });
    const production = audit.find((e) => e.action === 'label' && e.label === 'production' && e.version === 1);
    expect(production).toMatchObject({ actor: 'alice', previousVersion: 2 });
    expect(production!.createdAt).toBeInstanceOf(Date);
    const v3 = await apps.store.getVersion('butcher-cuts', 3);
    expect(v3).toMatchObject({
      author: 'bob',
      authorTeam: 'growth',
      source: 'edit',
      message: 'growth override',
    });
  });

  it('diffs two versions as a readable line diff of their YAML', async () => {
    const diff = await apps.diff('butcher-cuts', 2, 3, VIEWER);
    expect(diff.changed).toBe(true);
    expect(diff.text).toContain('--- butcher-cuts@2');
    expect(diff.text).toMatch(/^-.*PRODUCTION top-down/m);
    expect(diff.text).toMatch(/^\+.*GROWTH top-down/m);
    // only the template changed: nothing about the rubric appears
    expect(diff.lines.filter((l) => l.op !== ' ').every((l) => l.text.includes('top-down'))).toBe(true);
    const same = await apps.diff('butcher-cuts', 1, 1, VIEWER);
    expect([same.changed, same.text]).toEqual([false, '']);
  });

  it('refuses an update whose profile is invalid or misnamed, naming the field', async () => {
    const bad = editedButcher(dir, 'X').replace("expected: 'yes'", 'expected: maybe');
    const error = await rejection(apps.update('butcher-cuts', bad, ADMIN));
    expect(error.message).toMatch(/rubric\.\d+\.expected/);
    const misnamed = await rejection(apps.update('produce', editedButcher(dir, 'X'), ADMIN));
    expect(misnamed.field).toBe('profile.name');
  });

  it('parses a profile from text with the same checks as files', () => {
    const text = editedButcher(dir, 'Y').replace('{{cut}}', '{{cutt}}');
    expect(() => parseApplicationText(text, 'update.yaml')).toThrow(
      /update\.yaml:\d+: template: uses \{\{cutt\}\}/,
    );
  });
});

function editedProduce(dir: string, marker: string): string {
  return readFileSync(join(dir, 'produce.yaml'), 'utf8').replace(
    'Studio product photograph',
    `${marker} studio product photograph`,
  );
}

function editedPrepared(dir: string, marker: string): string {
  return readFileSync(join(dir, 'prepared-foods.yaml'), 'utf8').replace(
    'Appetising food photograph',
    `${marker} food photograph`,
  );
}

const postgresUrl = inject('postgresUrl');

// PGlite has one connection, so it serialises by itself; a server with a pool shows real races.
describe.skipIf(!postgresUrl)('concurrency on a PostgreSQL server', () => {
  it('parallel edits get distinct versions and parallel starts load each file once', async () => {
    const db = await openDatabase({ url: await createTestDatabase(postgresUrl!), maxConnections: 6 });
    const dir = copyOfShippedApps(['butcher-cuts']);
    try {
      // Two processes starting at once, each loading the files.
      const starts = await Promise.all(
        [0, 1, 2].map(() =>
          new Applications({ versions: new AppVersionRepo(db), catalog, dir }).syncFileDefaults(),
        ),
      );
      expect(starts.flatMap((s) => s.loaded).filter((l) => l.created)).toHaveLength(1);
      const apps = new Applications({ versions: new AppVersionRepo(db), catalog, dir });
      const edits = await Promise.all(
        [1, 2, 3, 4, 5].map((i) =>
          apps.update('butcher-cuts', editedButcher(dir, `PAR-${i}`), ADMIN, { label: 'staging' }),
        ),
      );
      expect(edits.map((e) => e.version).sort()).toEqual([2, 3, 4, 5, 6]);
      const templates = (await apps.store.versions('butcher-cuts')).map((v) => v.profile.template);
      for (const i of [1, 2, 3, 4, 5]) expect(templates.some((t) => t.includes(`PAR-${i}`))).toBe(true);
      // the label saw every move: its history holds the four earlier targets
      const staging = (await apps.store.labels('butcher-cuts')).find((l) => l.label === 'staging')!;
      expect(staging.history).toHaveLength(4);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
