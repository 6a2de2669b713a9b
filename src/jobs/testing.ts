import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composePlatform, type Platform, type PlatformDeps } from '../platform/compose.ts';
import { platformConfigFromEnv } from '../platform/config.ts';

/** A platform on a fresh data folder (embedded PGlite in-process, local blobs) for batch tests. */
export async function tempPlatform(
  env: Record<string, string> = {},
  deps: Omit<PlatformDeps, 'env'> = {},
): Promise<{ platform: Platform; dir: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'pixel-jobs-'));
  const fullEnv = { PIXEL_DATA_DIR: dir, ...env };
  const platform = await composePlatform(platformConfigFromEnv(fullEnv), { env: fullEnv, ...deps });
  return {
    platform,
    dir,
    async close() {
      await platform.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` every `everyMs` until it returns a value, at most `timeoutMs`; throws with `what` after. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  options: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const everyMs = options.everyMs ?? 50;
  const rounds = Math.ceil((options.timeoutMs ?? 20_000) / everyMs);
  for (let i = 0; i < rounds; i++) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}
