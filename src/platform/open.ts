import { join } from 'node:path';
import { type Db, openDatabase } from '../catalog/db.ts';
import { createBlobStore, storeConfigFromEnv } from '../storage/config.ts';
import type { BlobStore } from '../storage/types.ts';
import type { PlatformConfig } from './config.ts';

/**
 * The catalogue for this configuration: DATABASE_URL, else PGlite under `<dataDir>/pglite`. The server runs
 * PGlite in its own thread, beside the event loop; one-shot CLI commands keep it in-process.
 */
export function openPlatformDatabase(
  config: Pick<PlatformConfig, 'databaseUrl' | 'dataDir'>,
  options: { thread?: boolean } = {},
): Promise<Db> {
  return openDatabase(
    config.databaseUrl
      ? { url: config.databaseUrl }
      : { dataDir: join(config.dataDir, 'pglite'), thread: options.thread === true },
  );
}

/** The blob store for this configuration (PIXEL_STORE and friends); local blobs live under `<dataDir>/blobs`. */
export function openPlatformStore(
  config: Pick<PlatformConfig, 'dataDir' | 'publicUrl'>,
  env: NodeJS.ProcessEnv,
  fallbackUrl: string,
): BlobStore {
  return createBlobStore(
    storeConfigFromEnv(
      { ...env, PIXEL_DATA_DIR: config.dataDir },
      { publicUrl: config.publicUrl ?? fallbackUrl },
    ),
  );
}
