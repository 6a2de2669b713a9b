import { composePlatform, type Platform } from '../platform/compose.ts';
import { platformConfigFromEnv } from '../platform/config.ts';

/**
 * Builds the platform the server would build for this environment (PGlite in-process: a one-shot command has
 * nothing to overlap), runs `fn`, and closes everything it opened on every path, so the process can exit and
 * the data folder's lock is released.
 */
export async function withPlatform<T>(fn: (platform: Platform) => Promise<T>): Promise<T> {
  const platform = await composePlatform(platformConfigFromEnv(process.env), { env: process.env });
  try {
    for (const error of platform.synced.errors) process.stderr.write(`pixel: warning: ${error.message}\n`);
    return await fn(platform);
  } finally {
    await platform.close();
  }
}
