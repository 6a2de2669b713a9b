import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageService } from '../gen/pixel/v1/images_pb.ts';
import type { ProviderName } from '../models/schema.ts';
import { startOpenAIFake } from '../providers/openai/fake.ts';
import { createAdapters } from '../providers/registry.ts';
import type { FakeServer } from '../providers/testing/types.ts';
import type { ProviderAdapter, ProviderCall, ProviderResult } from '../providers/types.ts';
import { LocalBlobStore } from '../storage/local.ts';
import type { BlobStore } from '../storage/types.ts';
import { startTestServer, type TestServer } from './test-support.ts';

let fake: FakeServer;
let t: TestServer;
let dataDir: string;
let local: LocalBlobStore;

/** Test controls over the provider and the store the server uses. */
const control = {
  /** Make the second provider call of the next request fail with 500s after the first has succeeded. */
  failSecondCall: false,
  /** Fail the store's next put after one success (a crash between blob and row). */
  failSecondPut: false,
  /** Resolved when a provider call starts; lets a test act while a request is in flight. */
  onCall: undefined as (() => void) | undefined,
  /** A provider call waits on this before answering. */
  hold: undefined as Promise<void> | undefined,
};

function controlledOpenAI(inner: ProviderAdapter): ProviderAdapter {
  let calls = 0;
  let first: Promise<ProviderResult> | undefined;
  return {
    name: 'openai',
    async generate(call: ProviderCall) {
      control.onCall?.();
      if (control.hold) await control.hold;
      if (!control.failSecondCall) return inner.generate(call);
      calls++;
      if (calls === 1) {
        first = inner.generate(call);
        return first;
      }
      // Only once the first call has its images does the fake start failing: every retry of call 2 gets a 500.
      await first?.catch(() => undefined);
      fake.inject({ kind: 'server_error', times: 10, status: 500 });
      return inner.generate(call);
    },
  };
}

function flakyStore(store: BlobStore): BlobStore {
  let puts = 0;
  let first: Promise<unknown> | undefined;
  return {
    kind: store.kind,
    async put(bytes, opts) {
      if (control.failSecondPut && ++puts === 2) {
        // Fail only once the first blob is on disk, so the orphan exists when the request fails.
        await first;
        throw new Error('disk full (injected)');
      }
      const put = store.put(bytes, opts);
      first = put.catch(() => undefined);
      return put;
    },
    get: (key) => store.get(key),
    exists: (key) => store.exists(key),
    delete: (key) => store.delete(key),
    list: () => store.list(),
    url: (key) => store.url(key),
    close: () => store.close(),
  };
}

async function blobKeys(): Promise<string[]> {
  const keys: string[] = [];
  for await (const blob of local.list()) keys.push(blob.key);
  return keys.sort();
}

beforeAll(async () => {
  fake = await startOpenAIFake();
  dataDir = mkdtempSync(join(tmpdir(), 'pixel-faults-'));
  const env = { OPENAI_API_KEY: fake.apiKey, OPENAI_BASE_URL: fake.url, PIXEL_OPENAI_MAX_ATTEMPTS: '2' };
  const adapters = new Map<ProviderName, ProviderAdapter>(createAdapters(env));
  adapters.set('openai', controlledOpenAI(adapters.get('openai')!));
  local = new LocalBlobStore({ dir: join(dataDir, 'blobs'), publicBaseUrl: 'http://127.0.0.1:1' });
  t = await startTestServer({ dataDir, env, deps: { adapters, store: flakyStore(local) } });
});
afterAll(async () => {
  await t?.stop();
  await fake?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const client = () =>
  createClient(ImageService, createConnectTransport({ baseUrl: t.url, httpVersion: '1.1' }));
const rows = async () => (await client().listImages({ pageSize: 1000 })).images.length;

describe('faults in the middle of a request', () => {
  it('a provider failing on the 2nd call of an n-split request leaves no row and no blob', async () => {
    const rowsBefore = await rows();
    const blobsBefore = await blobKeys();
    control.failSecondCall = true;
    const error = await client()
      .generate({ model: 'openai/gpt-image-1.5', prompt: 'eleven oranges', n: 11, width: 1024, height: 1024 })
      .catch((e: unknown) => e);
    control.failSecondCall = false;
    // Call 1 succeeded, call 2 was tried twice (PIXEL_OPENAI_MAX_ATTEMPTS=2), both times refused.
    const posts = fake.requests.filter((r) => r.path.endsWith('/images/generations'));
    fake.reset();
    expect(ConnectError.from(error).code).toBe(Code.Unavailable);
    expect(posts.length).toBe(3);
    expect(await rows()).toBe(rowsBefore);
    await t.server.sweep({ graceMs: 0 });
    expect(await blobKeys()).toEqual(blobsBefore);
  });

  it('a store failing after one blob leaves no row, and the sweeper removes the orphan', async () => {
    const rowsBefore = await rows();
    const blobsBefore = await blobKeys();
    control.failSecondPut = true;
    const error = await client()
      .generate({ prompt: 'two lemons', n: 2 })
      .catch((e: unknown) => e)
      .finally(() => {
        control.failSecondPut = false;
      });
    expect(ConnectError.from(error).code).toBe(Code.Internal);
    expect(ConnectError.from(error).message).not.toContain('disk full');
    expect(await rows()).toBe(rowsBefore);
    const orphans = (await blobKeys()).filter((k) => !blobsBefore.includes(k));
    expect(orphans).toHaveLength(1);
    // The default grace period protects young blobs; grace 0 takes the orphan.
    expect((await t.server.sweep()).deleted).toBe(0);
    const swept = await t.server.sweep({ graceMs: 0 });
    expect(swept.deletedKeys).toEqual(orphans);
    expect(await blobKeys()).toEqual(blobsBefore);
  });
});

describe('shutdown and restart', () => {
  it('finishes an in-flight request on close, and loses nothing stored across the restart', async () => {
    const kept = await client().generate({ prompt: 'a loaf of bread', seed: 99 });
    const image = kept.images[0]!;

    let release!: () => void;
    control.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started = new Promise<void>((resolve) => {
      control.onCall = resolve;
    });
    const inFlight = client().generate({
      model: 'openai/gpt-image-1.5',
      prompt: 'milk carton',
      width: 1024,
      height: 1024,
    });
    await started;
    const oldUrl = t.url;
    const closing = t.server.close();
    // Closing waits for the request; let the provider answer now.
    release();
    control.hold = undefined;
    control.onCall = undefined;
    const finished = await inFlight;
    expect(finished.images).toHaveLength(1);
    await closing;
    await expect(fetch(`${oldUrl}/healthz`)).rejects.toThrow();

    await t.restart();
    const again = await client().getImage({ id: image.id });
    expect(again.sha256).toBe(image.sha256);
    expect(again.seed).toBe(99);
    const late = await client().getImage({ id: finished.images[0]!.id });
    expect(late.prompt).toBe('milk carton');
    const file = await fetch(`${t.url}/files/${again.key}`);
    expect(file.status).toBe(200);
    expect(
      createHash('sha256')
        .update(Buffer.from(await file.arrayBuffer()))
        .digest('hex'),
    ).toBe(image.sha256);
  });
});
