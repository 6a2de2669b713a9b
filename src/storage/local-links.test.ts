import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBlobStore } from './local.ts';
import { sampleImage } from './store.contract.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'pixel-links-'));
  dirs.push(dir);
  return dir;
};

describe('the local store serves only regular files inside itself', () => {
  it('a symlink in place of a blob reads as missing, and does not exist', async () => {
    const root = tempDir();
    const outside = join(root, 'outside.png');
    const store = new LocalBlobStore({ dir: join(root, 'store'), publicBaseUrl: 'http://127.0.0.1:1' });
    const bytes = await sampleImage(1);
    writeFileSync(outside, bytes);
    const blob = await store.put(bytes, { mediaType: 'image/png' });
    expect((await store.get(blob.key))?.bytes.byteLength).toBe(bytes.byteLength);
    const path = join(store.dir, ...blob.key.split('/'));
    unlinkSync(path);
    symlinkSync(outside, path);
    expect(await store.get(blob.key)).toBeUndefined();
    expect(await store.exists(blob.key)).toBe(false);
    await store.close();
  });

  it('a symlinked folder on the way to a blob reads as missing', async () => {
    const root = tempDir();
    const store = new LocalBlobStore({ dir: join(root, 'store'), publicBaseUrl: 'http://127.0.0.1:1' });
    const bytes = await sampleImage(2);
    const blob = await store.put(bytes, { mediaType: 'image/png' });
    // Move the blob's folder out of the store and link it back in.
    const folder = dirname(join(store.dir, ...blob.key.split('/')));
    const moved = join(root, 'elsewhere');
    renameSync(folder, moved);
    symlinkSync(moved, folder);
    expect(await store.get(blob.key)).toBeUndefined();
    await store.close();
  });

  it('a folder under a key is not a blob', async () => {
    const root = tempDir();
    const store = new LocalBlobStore({ dir: join(root, 'store'), publicBaseUrl: 'http://127.0.0.1:1' });
    const blob = await store.put(await sampleImage(3), { mediaType: 'image/png' });
    const path = join(store.dir, ...blob.key.split('/'));
    unlinkSync(path);
    mkdirSync(path);
    expect(await store.get(blob.key)).toBeUndefined();
    expect(await store.exists(blob.key)).toBe(false);
    await store.close();
  });

  it('a store that has no folder yet has no blobs', async () => {
    const root = tempDir();
    const store = new LocalBlobStore({ dir: join(root, 'never-made'), publicBaseUrl: 'http://127.0.0.1:1' });
    expect(await store.get(`images/00/00/${'0'.repeat(64)}.png`)).toBeUndefined();
    await store.close();
  });
});
