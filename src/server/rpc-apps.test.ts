import { rmSync } from 'node:fs';
import { ConnectError, createClient, createRouterTransport } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../apps/permissions.ts';
import { Applications } from '../apps/service.ts';
import { copyOfShippedApps } from '../apps/testing.ts';
import { AppVersionRepo } from '../catalog/app-versions.ts';
import { type Db, openDatabase } from '../catalog/db.ts';
import { ApplicationService } from '../gen/pixel/v1/apps_pb.ts';
import { loadCatalog } from '../models/catalog.ts';
import { PixelError } from '../protocol/errors.ts';
import { applicationServiceImpl } from './rpc-apps.ts';

describe('ApplicationService over Connect (in-memory transport)', () => {
  let db: Db;
  let dir: string;
  let client: ReturnType<typeof createClient<typeof ApplicationService>>;
  const as = (team: string, role: Actor['role']) => ({ headers: { 'x-team': team, 'x-role': role } });

  beforeAll(async () => {
    db = await openDatabase({ memory: true });
    dir = copyOfShippedApps();
    const applications = new Applications({ versions: new AppVersionRepo(db), catalog: loadCatalog(), dir });
    const impl = applicationServiceImpl({
      applications,
      caller: (ctx) => ({
        team: ctx.requestHeader.get('x-team') ?? 'none',
        role: (ctx.requestHeader.get('x-role') ?? 'viewer') as Actor['role'],
      }),
    });
    // The real server maps PixelError codes with its interceptor; here a minimal one does the same.
    const transport = createRouterTransport(({ service }) => service(ApplicationService, impl), {
      router: {
        interceptors: [
          (next) => async (req) => {
            try {
              return await next(req);
            } catch (error) {
              if (PixelError.isInstance(error))
                throw new ConnectError(
                  error.message,
                  error.code === 'permission_denied' ? 7 : error.code === 'not_found' ? 5 : 3,
                );
              throw error;
            }
          },
        ],
      },
    });
    client = createClient(ApplicationService, transport);
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists, gets, previews, updates, labels, diffs and rolls back', async () => {
    const list = await client.listApplications({}, as('growth', 'viewer'));
    expect(list.applications.map((a) => a.name)).toContain('lifestyle-carousel');

    const got = await client.getApplication({ name: 'produce' }, as('growth', 'viewer'));
    expect(got.version?.version).toBe(1);
    expect(got.via).toBe('default');
    expect((got.profile as { name: string }).name).toBe('produce');

    const preview = await client.previewApplication(
      {
        name: 'produce',
        vars: { item: 'pear' },
        request: { model: 'stability/stable-diffusion-xl-1024-v1-0', prompt: '', steps: 40 },
      },
      as('growth', 'viewer'),
    );
    expect(preview.variant).toBe('tags');
    expect(preview.prompt).toContain('one pear');
    expect(preview.provenance.steps).toBe('request');
    expect(JSON.stringify(preview.calls[0]?.body)).toContain('one pear');
    expect(preview.rubric.find((q) => q.id === 'subject')?.question).toBe(
      'Does the image show exactly one pear?',
    );
    expect(preview.fewShots.length).toBeGreaterThanOrEqual(2);

    const edited = got.yaml.replace('seamless pure white background', 'seamless pale grey background');
    const denied = await client
      .updateApplication(
        { name: 'produce', profile: { case: 'yaml', value: edited }, label: 'production' },
        as('growth', 'member'),
      )
      .catch((e: unknown) => e);
    expect(ConnectError.from(denied).code).toBe(7);
    const update = await client.updateApplication(
      {
        name: 'produce',
        profile: { case: 'yaml', value: edited },
        label: 'team:growth',
        message: 'grey for growth',
      },
      as('growth', 'member'),
    );
    expect(update).toMatchObject({ version: 2, label: 'team:growth' });
    expect((await client.getApplication({ name: 'produce' }, as('growth', 'viewer'))).via).toBe(
      'team:growth',
    );

    await client.labelApplication(
      { name: 'produce', label: 'production', version: 2 },
      as('platform', 'admin'),
    );
    await client.labelApplication(
      { name: 'produce', label: 'production', version: 1 },
      as('platform', 'admin'),
    );
    const diff = await client.diffApplication(
      { name: 'produce', fromVersion: 1, toVersion: 2 },
      as('x', 'viewer'),
    );
    expect(diff.changed).toBe(true);
    expect(diff.text).toContain('+template: Studio product photograph');
    const rollback = await client.rollbackApplication({ name: 'produce' }, as('platform', 'admin'));
    expect([rollback.label, rollback.fromVersion, rollback.toVersion]).toEqual(['production', 1, 2]);

    const history = await client.listApplicationVersions({ name: 'produce' }, as('x', 'viewer'));
    expect(history.versions.map((v) => v.version)).toEqual([2, 1]);
    expect(history.audit.map((a) => a.action)).toEqual([
      'rollback',
      'label',
      'label',
      'label',
      'create',
      'load',
    ]);
    expect(history.audit.find((a) => a.action === 'create')).toMatchObject({
      actorTeam: 'growth',
      message: 'grey for growth',
    });
  });
});
