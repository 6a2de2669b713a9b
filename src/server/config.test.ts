import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PixelError } from '../protocol/errors.ts';
import { LocalBlobStore } from '../storage/local.ts';
import { allowsAnonymous, serverConfigFromEnv } from './config.ts';
import { exportSinkFor } from './export-sink.ts';

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return PixelError.isInstance(error) ? error.field : 'not a PixelError';
  }
  return undefined;
};

describe('serverConfigFromEnv', () => {
  it('reads defaults and overrides', () => {
    const defaults = serverConfigFromEnv({});
    expect([defaults.port, defaults.host, defaults.requireKeys, defaults.databaseUrl]).toEqual([
      8080,
      '127.0.0.1',
      false,
      undefined,
    ]);
    const set = serverConfigFromEnv({
      PIXEL_PORT: '0',
      PIXEL_REQUIRE_KEYS: 'yes',
      PIXEL_SWEEP_GRACE_MS: '0',
      PIXEL_PUBLIC_URL: 'https://img.example.com/',
    });
    expect([set.port, set.requireKeys, set.sweepGraceMs, set.publicUrl]).toEqual([
      0,
      true,
      0,
      'https://img.example.com',
    ]);
  });

  it('names the variable at fault without echoing secrets', () => {
    expect(fieldOf(() => serverConfigFromEnv({ PIXEL_PORT: '70000' }))).toBe('PIXEL_PORT');
    expect(fieldOf(() => serverConfigFromEnv({ PIXEL_PORT: '80a' }))).toBe('PIXEL_PORT');
    expect(fieldOf(() => serverConfigFromEnv({ PIXEL_REQUIRE_KEYS: 'maybe' }))).toBe('PIXEL_REQUIRE_KEYS');
    expect(fieldOf(() => serverConfigFromEnv({ PIXEL_LOG_LEVEL: 'loud' }))).toBe('PIXEL_LOG_LEVEL');
    expect(fieldOf(() => serverConfigFromEnv({ PIXEL_PUBLIC_URL: 'ftp://x' }))).toBe('PIXEL_PUBLIC_URL');
  });

  it('allows anonymous callers only for the embedded profile on 127.0.0.1 without PIXEL_REQUIRE_KEYS', () => {
    expect(allowsAnonymous(serverConfigFromEnv({}))).toBe(true);
    expect(allowsAnonymous(serverConfigFromEnv({ PIXEL_HOST: '0.0.0.0' }))).toBe(false);
    expect(allowsAnonymous(serverConfigFromEnv({ PIXEL_REQUIRE_KEYS: 'true' }))).toBe(false);
    expect(allowsAnonymous(serverConfigFromEnv({ DATABASE_URL: 'postgres://u@db/pixel' }))).toBe(false);
  });
});

describe('exportSinkFor (local store)', () => {
  it('writes export files under the store folder and refuses unsafe keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pixel-sink-'));
    try {
      const sink = exportSinkFor(new LocalBlobStore({ dir, publicBaseUrl: 'http://127.0.0.1:1' }));
      await sink.put(
        'exports/sf/images/a.ndjson',
        new TextEncoder().encode('{"id":1}\n'),
        'application/x-ndjson',
      );
      expect(readFileSync(join(dir, 'exports/sf/images/a.ndjson'), 'utf8')).toBe('{"id":1}\n');
      await expect(sink.put('exports/../../etc/x', new Uint8Array([1]), 'text/plain')).rejects.toMatchObject({
        field: 'prefix',
      });
      await expect(sink.put('images/aa/bb/x.png', new Uint8Array([1]), 'image/png')).rejects.toMatchObject({
        field: 'prefix',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
