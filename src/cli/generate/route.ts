import { join } from 'node:path';
import { lockHolder } from '../../catalog/data-lock.ts';
import { composePlatform, type Platform } from '../../platform/compose.ts';
import type { PlatformConfig } from '../../platform/config.ts';
import { PixelError } from '../../protocol/errors.ts';

/** Where a stored generation runs: this process's platform, or the server that holds the data folder. */
export type StoreTarget =
  | { kind: 'here'; platform: Platform }
  | { kind: 'server'; url: string; pid?: number };

/**
 * Opens the platform of this environment. When a server holds the embedded folder (PGlite is one process's),
 * its lock says which server and at what URL: the request goes there instead. A holder that did not say
 * where it listens is an error naming the ways out (--server URL, --no-store, DATABASE_URL).
 */
export async function openStoreTarget(
  config: PlatformConfig,
  /** What else the command could do, appended to the message (e.g. generate's --no-store). */
  alternative = '',
): Promise<StoreTarget> {
  try {
    return { kind: 'here', platform: await composePlatform(config, { env: process.env }) };
  } catch (error) {
    if (!PixelError.isInstance(error) || error.reason !== 'data_dir_in_use' || config.databaseUrl)
      throw error;
    const holder = lockHolder(join(config.dataDir, 'pglite'));
    if (holder?.url !== undefined) return { kind: 'server', url: holder.url, pid: holder.pid };
    throw new PixelError({
      code: 'failed_precondition',
      reason: 'data_dir_in_use',
      field: 'PIXEL_DATA_DIR',
      message: `${error.message}; or send the request to that server with --server URL${alternative}`,
    });
  }
}
