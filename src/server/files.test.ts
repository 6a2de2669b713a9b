import { symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-support.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t?.stop();
});

const post = (path: string, body: unknown) =>
  fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function generate(
  prompt: string,
): Promise<{ id: string; url: string; sha256: string; blobKey?: string }> {
  const res = await post('/pixel.v1.ImageService/Generate', {
    model: 'pixel/sketch',
    prompt,
    width: 128,
    height: 128,
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { images: Array<{ id: string; url: string; sha256: string }> };
  return body.images[0]!;
}

const keyOf = (url: string) => new URL(url).pathname.slice('/files/'.length);

describe('/files/', () => {
  it('stops serving a deleted image at once, before the sweeper runs (also to a revalidating cache)', async () => {
    const image = await generate('two lemons');
    const served = await fetch(image.url);
    expect(served.status).toBe(200);
    await served.arrayBuffer();
    const deleted = await post('/pixel.v1.ImageService/DeleteImage', { id: image.id });
    expect(deleted.status).toBe(200);
    const after = await fetch(image.url);
    expect([404, 410]).toContain(after.status);
    const revalidate = await fetch(image.url, { headers: { 'if-none-match': `"${image.sha256}"` } });
    expect([404, 410]).toContain(revalidate.status);
  });

  it('does not follow a symlink put in place of a live blob', async () => {
    const image = await generate('a ribeye steak');
    const path = join(t.dataDir, 'blobs', ...keyOf(image.url).split('/'));
    const outside = join(t.dataDir, 'secret.png');
    writeFileSync(outside, 'not for you');
    unlinkSync(path);
    symlinkSync(outside, path);
    const res = await fetch(image.url);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('not for you');
  });

  it('answers a key no image has with 404', async () => {
    const res = await fetch(`${t.url}/files/images/00/00/${'0'.repeat(64)}.png`);
    expect(res.status).toBe(404);
  });
});
