import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Parsing the catalogue's YAML is most of its load time (tens of ms), and the catalogue loads at every
 * CLI start. This keeps the parsed JSON of each file keyed by a hash of its text, so an unchanged file
 * is read back with JSON.parse. Callers still validate what comes back; any failure here just means
 * "parse the YAML again", so the cache can never make a catalogue wrong, only faster.
 */
const CACHE_VERSION = '1';

function cacheDir(): string | undefined {
  if (process.env.PIXEL_CATALOG_CACHE === 'off') return undefined;
  return process.env.PIXEL_CACHE_DIR || join(tmpdir(), 'pixel-catalog-cache');
}

function keyOf(text: string): string {
  return createHash('sha256').update(CACHE_VERSION).update('\0').update(text).digest('hex').slice(0, 32);
}

export function readCached(text: string): unknown {
  const dir = cacheDir();
  if (!dir) return undefined;
  try {
    return JSON.parse(readFileSync(join(dir, `${keyOf(text)}.json`), 'utf8'));
  } catch {
    return undefined;
  }
}

export function writeCached(text: string, value: unknown): void {
  const dir = cacheDir();
  if (!dir) return;
  try {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${keyOf(text)}.json`);
    // Write then rename, so a concurrent reader never sees half a file.
    const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(temp, JSON.stringify(value));
    renameSync(temp, file);
  } catch {
    // A read-only or full disk only costs speed.
  }
}
