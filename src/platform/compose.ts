import { Applications, type SyncReport } from '../apps/service.ts';
import { AppVersionRepo } from '../catalog/app-versions.ts';
import type { Db } from '../catalog/db.ts';
import { FinetuneRegistry } from '../finetune/registry.ts';
import { composeFinetunes, type FinetunePlatform, withFinetuneAdapters } from '../finetune/wire.ts';
import { GatedImageService, gateSettingsFromEnv } from '../quality/gate/gated-service.ts';
import { envConnections } from '../quality/gate/judge-factory.ts';
import type { ImageService, ImageServiceDeps } from '../server/image-service.ts';
import type { BlobStore } from '../storage/types.ts';
import type { PlatformConfig } from './config.ts';
import { composeModels, type ModelPlatform, type ModelPlatformDeps } from './models.ts';
import { openPlatformDatabase, openPlatformStore } from './open.ts';

/**
 * Everything a surface needs, built once: the catalogue DB, the blob store, the model catalogue, the provider
 * adapters, the applications and the image use cases. `pixel serve`, every CLI command, workers and tests take
 * them from here, so they can never disagree (e.g. on which models this host can run).
 */
export interface Platform extends ModelPlatform {
  config: PlatformConfig;
  db: Db;
  store: BlobStore;
  applications: Applications;
  images: ImageService;
  /** The shipped application files loaded as versions; broken files are listed, the rest loaded. */
  synced: SyncReport;
  /** Fine-tunes: training datasets, jobs, and the registry that serves them as `ft/<name>` (src/finetune). */
  finetunes: FinetunePlatform;
  /** Closes what this platform opened (not a `db` or `store` the caller passed in). */
  close(): Promise<void>;
}

export interface PlatformDeps extends ModelPlatformDeps {
  /** A database or store the caller owns (not closed by `close()`). */
  db?: Db;
  store?: BlobStore;
  /** Folder of the shipped application profiles (default PIXEL_APPS_DIR or the project's `apps/`). */
  appsDir?: string;
}

export interface PlatformOptions {
  /** Run embedded PGlite in a worker thread (the server: its work overlaps the event loop). */
  thread?: boolean;
  /** Base of local blob URLs when PIXEL_PUBLIC_URL is not set (the server's own URL). */
  fallbackUrl?: string;
  /** Called once per stored image and per failure (the server's metrics). */
  observe?: ImageServiceDeps['observe'];
}

export async function composePlatform(
  config: PlatformConfig,
  deps: PlatformDeps = {},
  options: PlatformOptions = {},
): Promise<Platform> {
  // Trained fine-tunes join the catalogue as ft/<name> models, with their inference routes (src/finetune).
  const shipped = composeModels(deps);
  const registry = new FinetuneRegistry(shipped.catalog);
  const models = composeModels({
    env: shipped.env,
    catalog: registry.catalog(),
    adapters: withFinetuneAdapters(shipped.adapters, registry),
  });
  const owned: Array<() => Promise<void>> = [];
  const close = async () => {
    const errors: unknown[] = [];
    for (const closeOne of owned.reverse()) await closeOne().catch((error: unknown) => errors.push(error));
    owned.length = 0;
    if (errors.length > 0) throw errors[0];
  };
  try {
    const db = deps.db ?? (await openPlatformDatabase(config, { thread: options.thread === true }));
    if (!deps.db) owned.push(() => db.close());
    const store =
      deps.store ?? openPlatformStore(config, models.env, options.fallbackUrl ?? 'http://127.0.0.1:8080');
    if (!deps.store) owned.push(() => store.close());
    const applications = new Applications({
      versions: new AppVersionRepo(db),
      catalog: models.catalog,
      defaultModel: models.defaultModel,
      available: models.available,
      ...(deps.appsDir !== undefined && { dir: deps.appsDir }),
    });
    // Shipped profiles (apps/*.yaml) become versions now, not on the first request.
    const synced = await applications.syncFileDefaults();
    // The image use cases with the quality gate in front (requests with `gate`; see src/quality).
    const images = new GatedImageService(
      {
        db,
        store,
        catalog: models.catalog,
        adapter: models.adapter,
        defaultModel: models.defaultModel,
        applications: applications.resolver(),
        ...(options.observe && { observe: options.observe }),
      },
      gateSettingsFromEnv(models.env),
      envConnections(models.env),
    );
    const finetunes = await composeFinetunes({
      db,
      store,
      registry,
      catalog: models.catalog,
      adapter: models.adapter,
      env: models.env,
    });
    return { ...models, config, db, store, applications, images, synced, finetunes, close };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}
