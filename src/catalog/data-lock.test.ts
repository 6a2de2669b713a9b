import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { advertiseServer, lockDataDir, lockHolder } from './data-lock.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pixel-lock-'));
  dirs.push(dir);
  return dir;
}

describe('lockDataDir', () => {
  it('keeps a second process out while the owner runs, naming the owner', async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      await writeFile(join(dir, 'pixel.lock'), String(child.pid));
      expect(() => lockDataDir(dir)).toThrow(new RegExp(`in use by process ${child.pid}`));
    } finally {
      child.kill();
    }
  });

  it('takes over a lock whose process is gone, and releases it', async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => child.on('exit', resolve));
    await writeFile(join(dir, 'pixel.lock'), String(child.pid));
    const release = lockDataDir(dir);
    expect(await readFile(join(dir, 'pixel.lock'), 'utf8')).toBe(String(process.pid));
    release();
    const again = lockDataDir(dir);
    again();
  });
});

describe('advertiseServer and lockHolder', () => {
  it('puts the server URL on the lock it holds, and a reader finds pid and URL', async () => {
    const dir = await tempDir();
    const release = lockDataDir(dir);
    try {
      expect(lockHolder(dir)).toEqual({ pid: process.pid });
      expect(advertiseServer(dir, 'http://127.0.0.1:4321')).toBe(true);
      expect(lockHolder(dir)).toEqual({ pid: process.pid, url: 'http://127.0.0.1:4321' });
      // The lock still keeps others out, and says where the server is.
      expect(() => lockDataDir(dir)).toThrow(/in use by process \d+ \(this one/);
    } finally {
      release();
    }
    expect(lockHolder(dir)).toBeUndefined();
  });

  it('names the server URL of another process that holds the folder', async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      await writeFile(join(dir, 'pixel.lock'), `${child.pid}\nhttp://127.0.0.1:9999\n`);
      expect(lockHolder(dir)).toEqual({ pid: child.pid, url: 'http://127.0.0.1:9999' });
      expect(() => lockDataDir(dir)).toThrow(/`pixel serve` at http:\/\/127\.0\.0\.1:9999/);
      // Not this process's lock: it is left alone.
      expect(advertiseServer(dir, 'http://127.0.0.1:1')).toBe(false);
      expect(await readFile(join(dir, 'pixel.lock'), 'utf8')).toContain('9999');
    } finally {
      child.kill();
    }
  });

  it('a lock whose process is gone has no holder', async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => child.on('exit', resolve));
    await writeFile(join(dir, 'pixel.lock'), `${child.pid}\nhttp://127.0.0.1:9999\n`);
    expect(lockHolder(dir)).toBeUndefined();
  });
});
