import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBlobStore } from './local.ts';
import { StagingArea } from './staging.ts';
import { sampleImage } from './store.contract.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  }
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'pixel-staging-'));
  dirs.push(dir);
  return dir;
};

/** Polls `take` until it gives something (spares are made on libuv's pool; bounded). */
async function untilGiven<T>(take: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const given = take();
    if (given !== undefined) return given;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('nothing was ever given');
}

/** Spares are made on libuv's pool: wait until the area holds `n` entries (bounded). */
async function untilStaged(area: StagingArea, n: number): Promise<string[]> {
  for (let i = 0; i < 200; i++) {
    const names = existsSync(area.dir) ? readdirSync(area.dir) : [];
    if (names.length >= n) return names;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`staging never reached ${n} entries`);
}

describe('StagingArea', () => {
  it('has nothing to give at first, then keeps spare files and folders ready', async () => {
    const area = new StagingArea(tempDir(), { files: 3, folders: 3 });
    expect(area.takeFile()).toBeUndefined();
    const names = await untilStaged(area, 6);
    expect(names.filter((n) => n.endsWith('.tmp'))).toHaveLength(3);
    expect(names.filter((n) => n.endsWith('.d'))).toHaveLength(3);
    const file = await untilGiven(() => area.takeFile());
    expect(file.path.startsWith(area.dir)).toBe(true);
    expect(typeof file.fd).toBe('number');
    const folder = await untilGiven(() => area.takeFolder());
    expect(folder.endsWith('.d')).toBe(true);
    // two of three left of each: not replaced until asked
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(readdirSync(area.dir)).toHaveLength(6);
    area.refill();
    await untilStaged(area, 8);
    await area.close();
    // close removes what was not handed out; what was handed out is the taker's
    expect(readdirSync(area.dir).sort()).toEqual(
      [file!.path, folder!].map((p) => p.slice(area.dir.length + 1)).sort(),
    );
  });

  it('refills by itself once a take leaves less than half the spares', async () => {
    const area = new StagingArea(tempDir(), { files: 4, folders: 4 });
    area.refill();
    await untilStaged(area, 8);
    for (let i = 0; i < 200 && area.readyFiles < 4; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    for (let i = 0; i < 2; i++) expect(area.takeFile()).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(readdirSync(area.dir)).toHaveLength(8); // the two taken are the taker's; two spares left
    expect(area.takeFile()).toBeDefined(); // one left: below half, so it refills to four
    const names = await untilStaged(area, 11);
    expect(names.filter((n) => n.endsWith('.tmp'))).toHaveLength(7);
    await area.close();
  });

  it("removes a stopped process's leftovers once an hour old, and leaves recent ones", async () => {
    const store = tempDir();
    const dir = join(store, '.staging');
    mkdirSync(dir);
    writeFileSync(join(dir, '1-1-old.tmp'), '');
    mkdirSync(join(dir, '1-2-old.d'));
    writeFileSync(join(dir, '2-1-recent.tmp'), '');
    const hourAgo = new Date(Date.now() - 61 * 60_000);
    utimesSync(join(dir, '1-1-old.tmp'), hourAgo, hourAgo);
    utimesSync(join(dir, '1-2-old.d'), hourAgo, hourAgo);
    const area = new StagingArea(store, { files: 1, folders: 1 });
    area.takeFile();
    const names = await untilStaged(area, 3);
    expect(names).toContain('2-1-recent.tmp');
    expect(names).not.toContain('1-1-old.tmp');
    expect(names).not.toContain('1-2-old.d');
    await area.close();
  });

  it('gives up quietly when it cannot make spares (a read-only folder)', async () => {
    if (process.getuid?.() === 0) {
      // root ignores folder permissions: make the staging path a file instead, which mkdir cannot use
      const store = tempDir();
      writeFileSync(join(store, '.staging'), 'not a folder');
      const area = new StagingArea(store, { files: 2, folders: 2 });
      expect(area.takeFile()).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(area.takeFile()).toBeUndefined();
      return;
    }
    const store = tempDir();
    chmodSync(store, 0o555);
    const area = new StagingArea(store, { files: 2, folders: 2 });
    expect(area.takeFile()).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(area.takeFile()).toBeUndefined();
  });
});

describe('local store with its staging area', () => {
  it('writes blobs through spare files and folders, whole, and leaves only spares behind', async () => {
    const dir = tempDir();
    const store = new LocalBlobStore({ dir, publicBaseUrl: 'http://x' });
    const first = await store.put(await sampleImage(300), { mediaType: 'image/png' });
    await untilStaged(new StagingArea(dir), 40); // spare files and folders are ready now
    const blobs = [];
    for (let i = 301; i < 311; i++) {
      const bytes = await sampleImage(i);
      const put = await store.put(bytes, { mediaType: 'image/png' });
      expect(Buffer.from((await store.get(put.key))!.bytes).equals(Buffer.from(bytes))).toBe(true);
      blobs.push(put.key);
    }
    const listed: string[] = [];
    for await (const item of store.list()) listed.push(item.key);
    expect(listed.sort()).toEqual([first.key, ...blobs].sort());
    await store.close();
    expect(readdirSync(join(dir, '.staging'))).toEqual([]);
  });

  it('still writes when its staging area is unusable', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, '.staging'), 'not a folder');
    const store = new LocalBlobStore({ dir, publicBaseUrl: 'http://x' });
    for (let i = 320; i < 323; i++) {
      const bytes = await sampleImage(i);
      const put = await store.put(bytes, { mediaType: 'image/png' });
      expect((await store.get(put.key))?.bytes.byteLength).toBe(bytes.byteLength);
    }
    await store.close();
  });
});
