import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppVersionRepo } from '../catalog/app-versions.ts';
import { type Db, openDatabase } from '../catalog/db.ts';
import { generate } from '../generate/generate.ts';
import { loadCatalog } from '../models/catalog.ts';
import { PixelError } from '../protocol/errors.ts';
import { createPixelAdapter } from '../providers/pixel/index.ts';
import { ImageService } from '../server/image-service.ts';
import { LocalBlobStore } from '../storage/local.ts';
import { Applications } from './service.ts';
import { ADMIN, copyOfShippedApps } from './testing.ts';

const catalog = loadCatalog();
const sketch = createPixelAdapter();
const adapter = (provider: string) => (provider === 'pixel' ? sketch : undefined);

describe('generation by application', () => {
  let db: Db;
  let appsDir: string;
  let blobs: string;
  let service: ImageService;
  let apps: Applications;

  beforeAll(async () => {
    db = await openDatabase({ memory: true });
    appsDir = copyOfShippedApps();
    blobs = mkdtempSync(join(tmpdir(), 'pixel-apps-blobs-'));
    apps = new Applications({
      versions: new AppVersionRepo(db),
      catalog,
      dir: appsDir,
      defaultModel: 'pixel/sketch',
    });
    service = new ImageService({
      db,
      store: new LocalBlobStore({ dir: blobs, publicBaseUrl: 'http://127.0.0.1:1' }),
      catalog,
      adapter,
      defaultModel: 'pixel/sketch',
      applications: apps.resolver(),
    });
  });
  afterAll(async () => {
    await db.close();
    rmSync(appsDir, { recursive: true, force: true });
    rmSync(blobs, { recursive: true, force: true });
  });

  it('renders the template, stores application and app_version on the row, and reports provenance', async () => {
    const result = await service.generateAndStore(
      {
        app: 'produce',
        vars: { item: 'lemons', count: 'three' },
        model: 'pixel/sketch',
        width: 256,
        height: 256,
        seed: 7,
      },
      { team: 'fresh', role: 'member' },
    );
    expect(result.images).toHaveLength(1);
    const image = result.images[0]!;
    expect([image.application, image.appVersion]).toEqual(['produce', 1]);
    expect(image.prompt).toMatch(/^Studio product photograph of three fresh lemons, with clean, unbranded/);
    expect(image.negativePrompt).toContain('stickers');
    // application defaults reach the stored parameters; the request's own values win
    expect(image.params).toMatchObject({ style: 'studio-product', format: 'png', width: 256, height: 256 });
    expect([image.width, image.height]).toEqual([256, 256]);
    expect(result.report[0]).toMatchObject({ param: 'app', sent: 'produce@1' });
    expect(result.report.find((l) => l.param === 'app.style')?.note).toBe('application default');
    // the row in the catalogue says the same
    const rows = await db.query<{ application: string; app_version: number }>(
      'SELECT application, app_version FROM images WHERE id = $1',
      [image.id],
    );
    expect(rows[0]).toEqual({ application: 'produce', app_version: 1 });
  });

  it('uses the caller team override, and a named version when asked', async () => {
    const yaml = (await apps.get('produce', ADMIN)).yaml.replace(
      'Studio product photograph of',
      'Overhead photograph of',
    );
    const { version } = await apps.update(
      'produce',
      yaml,
      { team: 'fresh', role: 'member' },
      { label: 'team:fresh' },
    );
    const mine = await service.generateAndStore(
      { app: 'produce', vars: { item: 'lime' }, model: 'pixel/sketch', width: 128, height: 128 },
      { team: 'fresh', role: 'member' },
    );
    expect(mine.images[0]!.appVersion).toBe(version);
    expect(mine.images[0]!.prompt).toMatch(/^Overhead photograph of one fresh lime, with clean, unbranded/);
    const theirs = await service.generateAndStore(
      { app: 'produce', vars: { item: 'lime' }, model: 'pixel/sketch', width: 128, height: 128 },
      { team: 'growth', role: 'member' },
    );
    expect(theirs.images[0]!.appVersion).toBe(1);
    const pinned = await service.generateAndStore(
      {
        app: 'produce',
        appVersion: 1,
        vars: { item: 'lime' },
        model: 'pixel/sketch',
        width: 128,
        height: 128,
      },
      { team: 'fresh', role: 'member' },
    );
    expect(pinned.images[0]!.appVersion).toBe(1);
  });

  it('application default n applies unless the request sets n', async () => {
    const yaml = (await apps.get('packaged-goods', ADMIN)).yaml.replace(
      /^ {2}format: png$/m,
      '  format: png\n  n: 2',
    );
    await apps.update('packaged-goods', yaml, ADMIN, { label: 'production' });
    const vars = { product: 'oat milk', package: 'carton' };
    const two = await generate(
      { app: 'packaged-goods', vars, model: 'pixel/sketch', width: 64, height: 64 },
      { catalog, adapter, applications: apps.resolver() },
    );
    expect(two.images).toHaveLength(2);
    expect(two.application).toMatchObject({ name: 'packaged-goods', via: 'production' });
    const one = await generate(
      { app: 'packaged-goods', vars, n: 1, model: 'pixel/sketch', width: 64, height: 64 },
      { catalog, adapter, applications: apps.resolver() },
    );
    expect(one.images).toHaveLength(1);
  });

  it('refuses missing variables before generating, and app requests where no applications are wired', async () => {
    await expect(
      service.generateAndStore(
        { app: 'produce', vars: {}, model: 'pixel/sketch' },
        { team: 'fresh', role: 'member' },
      ),
    ).rejects.toMatchObject({
      code: 'invalid_argument',
      field: 'vars',
      message: 'missing template variable: item',
    });
    const error = await generate({ app: 'produce', vars: { item: 'x' } }, { catalog, adapter }).catch(
      (e: unknown) => e,
    );
    expect(PixelError.isInstance(error) && error.reason).toBe('applications_unavailable');
    const rows = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM images WHERE prompt LIKE '%  %'",
    );
    expect(rows[0]!.n).toBe(0);
  });
});
