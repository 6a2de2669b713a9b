import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_TEAM } from '../server/auth.ts';
import { composePlatform } from './compose.ts';
import { platformConfigFromEnv } from './config.ts';

const dirs: string[] = [];
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'pixel-platform-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('composePlatform', () => {
  it('builds one platform whose applications only pick models this host can run', async () => {
    const env = { PIXEL_DATA_DIR: dataDir() };
    const platform = await composePlatform(platformConfigFromEnv(env), { env });
    try {
      expect(platform.db.kind).toBe('pglite');
      expect(platform.store.kind).toBe('local');
      expect([...platform.adapters.keys()]).toEqual(['pixel']);
      expect(platform.available('pixel/sketch')).toBe(true);
      expect(platform.available('openai/gpt-image-1.5')).toBe(false);
      expect(platform.synced.errors).toEqual([]);
      expect(platform.synced.loaded.length).toBeGreaterThanOrEqual(5);
      // butcher-cuts defaults to a model that needs a key: on this host the preview falls back to one that runs.
      const preview = await platform.applications.preview(
        { app: 'butcher-cuts', vars: { cut: 'ribeye steak' } },
        { team: LOCAL_TEAM, role: 'member' },
      );
      expect(platform.available(preview.translation.model.id)).toBe(true);
    } finally {
      await platform.close();
    }
  });

  it('closes what it opened, so the same data folder opens again at once', async () => {
    const env = { PIXEL_DATA_DIR: dataDir() };
    const config = platformConfigFromEnv(env);
    const first = await composePlatform(config, { env });
    await expect(composePlatform(config, { env })).rejects.toThrow(/in use|lock/i);
    await first.close();
    const second = await composePlatform(config, { env });
    expect(second.synced.loaded.every((l) => !l.created)).toBe(true);
    await second.close();
  });

  it('refuses a fine-tune setting out of range naming the variable, and leaves the folder free', async () => {
    const env = { PIXEL_DATA_DIR: dataDir(), PIXEL_FINETUNE_MIN_WIN_RATE: '1.5' };
    const config = platformConfigFromEnv(env);
    await expect(composePlatform(config, { env })).rejects.toMatchObject({
      code: 'invalid_argument',
      field: 'PIXEL_FINETUNE_MIN_WIN_RATE',
      message: expect.stringContaining('from 0 to 1, got "1.5"'),
    });
    const fixed = { ...env, PIXEL_FINETUNE_MIN_WIN_RATE: '0.6' };
    const platform = await composePlatform(platformConfigFromEnv(fixed), { env: fixed });
    await platform.close();
  });
});
