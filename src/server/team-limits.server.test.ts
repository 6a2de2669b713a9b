import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ApiKeyRepo } from '../catalog/api-keys.ts';
import { type Db, openDatabase } from '../catalog/db.ts';
import { createTestDatabase } from '../catalog/testing/postgres-server.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import { startTestServer, type TestServer } from './test-support.ts';

const postgresUrl = inject('postgresUrl');

/** A provider whose calls wait until the test lets them go (or the call is aborted). */
function heldProvider() {
  const waiting: Array<() => void> = [];
  const adapter: ProviderAdapter = {
    name: 'openai',
    generate: (call) =>
      new Promise((_resolve, reject) => {
        const fail = () => reject(new Error('released'));
        waiting.push(fail);
        call.signal?.addEventListener('abort', fail);
      }),
  };
  return {
    adapter,
    waiting,
    releaseAll: () => {
      for (const f of waiting.splice(0)) f();
    },
  };
}

describe.skipIf(!postgresUrl)('per-team concurrency across two servers sharing PostgreSQL', () => {
  let db: Db;
  let a: TestServer;
  let b: TestServer;
  let key: string;
  const pa = heldProvider();
  const pb = heldProvider();
  beforeAll(async () => {
    const url = await createTestDatabase(postgresUrl!);
    db = await openDatabase({ url });
    key = (await new ApiKeyRepo(db).createKey({ team: 'grocery', role: 'member' })).key;
    const env = { DATABASE_URL: url, OPENAI_API_KEY: 'sk-test', PIXEL_TEAM_CONCURRENCY: '1' };
    [a, b] = await Promise.all([
      startTestServer({ env, deps: { adapters: new Map([['openai', pa.adapter]]) } }),
      startTestServer({ env, deps: { adapters: new Map([['openai', pb.adapter]]) } }),
    ]);
  }, 120_000);
  afterAll(async () => {
    pa.releaseAll();
    pb.releaseAll();
    await a?.stop();
    await b?.stop();
    await db?.close();
  });

  const generate = (t: TestServer) =>
    fetch(`${t.url}/v1/images/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'openai/gpt-image-1.5', prompt: 'a melon', size: '1024x1024' }),
    });

  it('a generation running on one server takes the team’s only slot on the other', async () => {
    const first = generate(a);
    for (let i = 0; i < 300 && pa.waiting.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(pa.waiting).toHaveLength(1);
    const second = await generate(b);
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('1');
    const body = (await second.json()) as { error: { type: string; param: string; message: string } };
    expect(body.error).toMatchObject({ type: 'rate_limit_error', param: 'team' });
    expect(body.error.message).toMatch(/1 generations at once/);
    expect(pb.waiting).toHaveLength(0);
    expect(await (await fetch(`${b.url}/metrics`)).text()).toMatch(
      /pixel_limit_rejections_total\{team="grocery",limit="team_concurrency"\} 1/,
    );
    // When the first ends (here: its provider fails), the slot is free again on either server.
    pa.releaseAll();
    expect((await first).status).toBeGreaterThanOrEqual(500);
    const third = generate(b);
    for (let i = 0; i < 300 && pb.waiting.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(pb.waiting).toHaveLength(1);
    pb.releaseAll();
    await third;
  });
});
