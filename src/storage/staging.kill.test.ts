import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBlobStore } from './local.ts';

const CHILD = fileURLToPath(new URL('./testing/staging-child.ts', import.meta.url));
/** What a store keeps ready: 32 spare files and 16 spare folders. */
const SPARES = 48;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Starts a child that fills the store's staging area, waits for `ready`, then SIGKILLs it. */
async function fillAndKill(dir: string): Promise<number> {
  const child = spawn(process.execPath, [CHILD, dir, String(SPARES)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  const ready = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`child never got ready: ${out}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.trim());
      }
    });
    child.once('exit', () => reject(new Error(`child exited early: ${out}`)));
  });
  expect(ready).toMatch(/^ready \d+$/);
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  return readdirSync(join(dir, '.staging')).length;
}

describe('spare files left by a killed process', () => {
  it('are removed when the store next opens, not an hour later', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pixel-kill-'));
    dirs.push(dir);
    // Three crashes in a row, each leaving its spares behind (the store never closed).
    let left = 0;
    for (let i = 0; i < 3; i++) left = await fillAndKill(dir);
    expect(left).toBeGreaterThanOrEqual(SPARES);
    const store = new LocalBlobStore({ dir, publicBaseUrl: 'http://127.0.0.1:1' });
    expect(readdirSync(join(dir, '.staging'))).toEqual([]);
    await store.close();
  });

  it("leaves a live process's spares alone", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pixel-kill-'));
    dirs.push(dir);
    const child = spawn(process.execPath, [CHILD, dir, String(SPARES)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('child never got ready')), 20_000);
        child.stdout!.once('data', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      const store = new LocalBlobStore({ dir, publicBaseUrl: 'http://127.0.0.1:1' });
      expect(readdirSync(join(dir, '.staging')).length).toBeGreaterThanOrEqual(SPARES);
      await store.close();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
