import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyRepo } from '../catalog/api-keys.ts';
import { type Db, openDatabase } from '../catalog/db.ts';
import { ImageService } from '../gen/pixel/v1/images_pb.ts';
import { startTestServer, type TestServer } from './test-support.ts';

// One server that requires keys (PIXEL_REQUIRE_KEYS), with the test holding the same database handle to
// create and revoke keys the way `pixel keys` does.
let t: TestServer;
let db: Db;
let keys: ApiKeyRepo;
let teamA: string;
let teamB: string;
let viewerA: string;
beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pixel-auth-'));
  db = await openDatabase({ dataDir: join(dataDir, 'pglite') });
  t = await startTestServer({ dataDir, env: { PIXEL_REQUIRE_KEYS: 'true' }, deps: { db } });
  keys = new ApiKeyRepo(db);
  teamA = (await keys.createKey({ team: 'grocery', role: 'member' })).key;
  teamB = (await keys.createKey({ team: 'pharmacy', role: 'member' })).key;
  viewerA = (await keys.createKey({ team: 'grocery', role: 'viewer' })).key;
});
afterAll(async () => {
  await t?.stop();
  await db?.close();
});

const openai = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${t.url}/v1`, maxRetries: 0 });
const rpc = (key?: string) =>
  createClient(
    ImageService,
    createConnectTransport({
      baseUrl: t.url,
      httpVersion: '1.1',
      interceptors: key
        ? [
            (next) => (req) => {
              req.header.set('authorization', `Bearer ${key}`);
              return next(req);
            },
          ]
        : [],
    }),
  );
const imageRows = async (team: string) =>
  Number(
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM images WHERE team = $1', [team]))[0]!.n,
  );

describe('bootstrap', () => {
  it('prints the first admin key once, never in the log, and it works', async () => {
    expect(t.notices).toHaveLength(1);
    const key = /pxl_[A-Za-z0-9_-]+/.exec(t.notices[0]!)?.[0];
    expect(key).toBeDefined();
    expect(t.logs.join('\n')).not.toContain(key);
    const listing = await rpc(key).listImages({ team: 'grocery' });
    expect(listing.images).toBeDefined();
    const started = t.logs
      .map((l) => JSON.parse(l) as { msg: string; auth?: string })
      .find((l) => l.msg === 'pixel listening');
    expect(started?.auth).toContain('API keys required');
  });
});

describe('auth', () => {
  it('refuses a missing, wrong or revoked key with 401 / unauthenticated', async () => {
    const none = await rpc()
      .generate({ prompt: 'x' })
      .catch((e: unknown) => e);
    expect(ConnectError.from(none).code).toBe(Code.Unauthenticated);
    const wrong = await rpc('pxl_not_a_real_key_at_all_0000')
      .generate({ prompt: 'x' })
      .catch((e: unknown) => e);
    expect(ConnectError.from(wrong).code).toBe(Code.Unauthenticated);

    const temp = await keys.createKey({ team: 'grocery', role: 'member' });
    expect((await rpc(temp.key).listImages({})).images).toBeDefined();
    await keys.revoke(temp.id);
    const revoked = await rpc(temp.key)
      .listImages({})
      .catch((e: unknown) => e);
    expect(ConnectError.from(revoked).code).toBe(Code.Unauthenticated);

    const rest = await fetch(`${t.url}/v1/images/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"prompt":"x"}',
    });
    expect(rest.status).toBe(401);
    expect(((await rest.json()) as { error: { type: string } }).error.type).toBe('authentication_error');
    await expect(
      openai('pxl_wrong_wrong_wrong_wrong').images.generate({ prompt: 'x' }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    expect(t.logs.join('\n')).not.toContain(temp.key);
  });

  it('keeps teams apart and lets a viewer read but not generate', async () => {
    const made = await rpc(teamA).generate({ prompt: 'grocery bag' });
    const id = made.images[0]!.id;
    expect(made.images[0]!.team).toBe('grocery');
    const other = await rpc(teamB)
      .getImage({ id })
      .catch((e: unknown) => e);
    expect(ConnectError.from(other).code).toBe(Code.NotFound);
    expect((await rpc(teamB).listImages({})).images.map((i) => i.id)).not.toContain(id);
    const peek = await rpc(teamB)
      .listImages({ team: 'grocery' })
      .catch((e: unknown) => e);
    expect(ConnectError.from(peek).code).toBe(Code.PermissionDenied);
    const deleteOther = await rpc(teamB)
      .deleteImage({ id })
      .catch((e: unknown) => e);
    expect(ConnectError.from(deleteOther).code).toBe(Code.NotFound);

    expect((await rpc(viewerA).getImage({ id })).id).toBe(id);
    const denied = await rpc(viewerA)
      .generate({ prompt: 'x' })
      .catch((e: unknown) => e);
    expect(ConnectError.from(denied).code).toBe(Code.PermissionDenied);
  });
});

describe('OpenAI-compatible endpoint with the official SDK', () => {
  it('returns b64_json by default, with Pixel ids, report and route', async () => {
    const result = await openai(teamA).images.generate({
      model: 'pixel/sketch',
      prompt: 'a red apple',
      size: '512x384',
      n: 2,
      quality: 'low',
    });
    expect(result.data).toHaveLength(2);
    const png = Buffer.from(result.data![0]!.b64_json!, 'base64');
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const pixel = (
      result as unknown as { pixel: { images: string[]; route: string; report: Array<{ param: string }> } }
    ).pixel;
    expect(pixel.route).toBe('pixel/sketch');
    expect(pixel.images).toHaveLength(2);
    expect(pixel.report.some((line) => line.param === 'quality')).toBe(true);
    const stored = await rpc(teamA).getImage({ id: pixel.images[0]! });
    expect([stored.width, stored.height]).toEqual([512, 384]);
    expect(createHash('sha256').update(png).digest('hex')).toBe(stored.sha256);
    // The answer describes what was stored.
    expect(result).toMatchObject({ size: '512x384', output_format: 'png' });
    expect(result.created).toBeGreaterThan(Date.now() / 1000 - 120);
  });

  it('returns URLs with response_format url, and takes Pixel fields as extra body fields', async () => {
    const result = await openai(teamA).images.generate({
      model: 'pixel/sketch',
      prompt: 'a green pear',
      response_format: 'url',
      output_format: 'webp',
      // @ts-expect-error Pixel's own field, not in the OpenAI type
      seed: 1234,
    });
    const url = result.data![0]!.url!;
    expect(url.startsWith(`${t.url}/files/images/`)).toBe(true);
    const file = await fetch(url);
    expect(file.headers.get('content-type')).toBe('image/webp');
    const pixel = (result as unknown as { pixel: { seeds: number[] } }).pixel;
    expect(pixel.seeds).toEqual([1234]);
  });

  it('lists models', async () => {
    const ids: string[] = [];
    for await (const model of openai(teamA).models.list()) ids.push(model.id);
    expect(ids).toContain('pixel/sketch');
  });

  it('answers bad input with OpenAI-shaped 400s naming the param', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ prompt: 'x', size: 'huge' }, 'size'],
      [{ prompt: 'x', n: 1000 }, 'n'],
      // Unknown fields and quality values are accepted and reported as dropped (openai-sdk.test.ts).
      [{ prompt: 'x'.repeat(40_000) }, 'prompt'],
      [{ prompt: 'x', response_format: 'png' }, 'response_format'],
    ];
    for (const [body, param] of cases) {
      const error = await openai(teamA)
        .images.generate(body as unknown as OpenAI.ImageGenerateParamsNonStreaming)
        .catch((e: unknown) => e);
      expect(error, param).toBeInstanceOf(OpenAI.BadRequestError);
      expect(
        (error as InstanceType<typeof OpenAI.BadRequestError>).param,
        JSON.stringify(body).slice(0, 60),
      ).toBe(param);
    }
    const unknown = await openai(teamA)
      .images.generate({ model: 'no-such-model', prompt: 'x' })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    const malformed = await fetch(`${t.url}/v1/images/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${teamA}` },
      body: '{"prompt": "x",',
    });
    expect(malformed.status).toBe(400);
    const body = (await malformed.json()) as { error: { type: string; param: string; code: string } };
    expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'malformed_json' });
  });
});

describe('idempotency', () => {
  it('replays the first result without generating again, and refuses another body under the same key', async () => {
    const client = openai(teamB);
    const headers = { 'Idempotency-Key': 'order-42-hero-image' };
    const before = await imageRows('pharmacy');
    const first = await client.images.generate(
      { model: 'pixel/sketch', prompt: 'vitamin bottle', n: 2 },
      { headers },
    );
    const afterFirst = await imageRows('pharmacy');
    expect(afterFirst).toBe(before + 2);
    const second = await client.images.generate(
      { model: 'pixel/sketch', prompt: 'vitamin bottle', n: 2 },
      { headers },
    );
    const ids = (r: unknown) => (r as { pixel: { images: string[]; replayed: boolean } }).pixel;
    expect(ids(second).images).toEqual(ids(first).images);
    expect(ids(second).replayed).toBe(true);
    expect(second.data![0]!.b64_json).toBe(first.data![0]!.b64_json);
    expect(await imageRows('pharmacy')).toBe(afterFirst);

    const other = await client.images
      .generate({ model: 'pixel/sketch', prompt: 'a different prompt' }, { headers })
      .catch((e: unknown) => e);
    expect(other).toBeInstanceOf(OpenAI.BadRequestError);
    expect((other as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('idempotency_mismatch');
    expect(await imageRows('pharmacy')).toBe(afterFirst);

    // The RPC field works the same way and shares the key space of the team.
    const viaRpc = await rpc(teamB).generate({
      model: 'pixel/sketch',
      prompt: 'vitamin bottle',
      n: 2,
      idempotencyKey: 'order-42-hero-image',
    });
    expect(viaRpc.replayed).toBe(true);
    expect(viaRpc.images.map((i) => i.id)).toEqual(ids(first).images);
  });
});
