import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, credentials, type StatusObject } from '@grpc/grpc-js';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyRepo } from '../catalog/api-keys.ts';
import { openDatabase } from '../catalog/db.ts';
import { PixelError } from '../protocol/errors.ts';
import { ManualClock } from '../providers/reliability/manual-clock.ts';
import { startServer } from './app.ts';
import { serverConfigFromEnv } from './config.ts';
import { startTestServer, type TestServer } from './test-support.ts';

const json = (t: TestServer, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** A raw HTTP/1.1 request, so the Host header can be anything. */
function raw(
  t: TestServer,
  options: { path: string; method?: string; headers: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(t.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: options.path,
        method: options.method ?? 'GET',
        headers: options.headers,
      },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const sketch = { model: 'pixel/sketch', prompt: 'two lemons', width: 64, height: 64, seed: 1 };

async function withDb(env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'pixel-access-'));
  const db = await openDatabase({ dataDir: join(dataDir, 'pglite') });
  const t = await startTestServer({ dataDir, env, deps: { db } });
  return {
    t,
    db,
    keys: new ApiKeyRepo(db),
    async stop() {
      await t.stop();
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe('anonymous callers (PIXEL_ALLOW_ANONYMOUS=true, team keys exist)', () => {
  let s: Awaited<ReturnType<typeof withDb>>;
  let grocery: string;
  let groceryImage: string;
  beforeAll(async () => {
    s = await withDb({ PIXEL_ALLOW_ANONYMOUS: 'true', PIXEL_CORS_ORIGINS: 'https://app.example.com' });
    grocery = (await s.keys.createKey({ team: 'grocery', role: 'member' })).key;
    const made = await json(s.t, '/pixel.v1.ImageService/Generate', sketch, {
      authorization: `Bearer ${grocery}`,
    });
    groceryImage = ((await made.json()) as { images: Array<{ id: string }> }).images[0]!.id;
  }, 120_000);
  afterAll(async () => {
    await s?.stop();
  });

  it('are members of team local: their own images only, no other team, no production label', async () => {
    const own = await json(s.t, '/pixel.v1.ImageService/Generate', sketch);
    expect(own.status).toBe(200);
    expect(own.headers.get('pixel-auth')).toBe('anonymous');
    expect(((await own.json()) as { images: Array<{ team: string }> }).images[0]!.team).toBe('local');

    const listOther = await json(s.t, '/pixel.v1.ImageService/ListImages', { team: 'grocery' });
    expect(listOther.status).toBe(403);
    const listed = (await (await json(s.t, '/pixel.v1.ImageService/ListImages', {})).json()) as {
      images: Array<{ team: string }>;
    };
    expect(listed.images.length).toBeGreaterThan(0);
    expect(listed.images.every((i) => i.team === 'local')).toBe(true);
    expect((await json(s.t, '/pixel.v1.ImageService/GetImage', { id: groceryImage })).status).toBe(404);
    expect((await json(s.t, '/pixel.v1.ImageService/DeleteImage', { id: groceryImage })).status).toBe(404);
    const label = await json(s.t, '/pixel.v1.ApplicationService/LabelApplication', {
      name: 'produce',
      label: 'production',
      version: 1,
    });
    expect(label.status).toBe(403);
    // The grocery image is still there.
    expect(
      (
        await json(
          s.t,
          '/pixel.v1.ImageService/GetImage',
          { id: groceryImage },
          { authorization: `Bearer ${grocery}` },
        )
      ).status,
    ).toBe(200);
  });

  it('an SDK placeholder token is the anonymous caller (said in pixel-auth); a wrong pxl_ key is 401', async () => {
    const dummy = await json(s.t, '/pixel.v1.ModelService/ListModels', {}, { authorization: 'Bearer x' });
    expect(dummy.status).toBe(200);
    expect(dummy.headers.get('pixel-auth')).toMatch(/anonymous; bearer token ignored/);
    const sdk = new OpenAI({ apiKey: 'sk-not-needed', baseURL: `${s.t.url}/v1`, maxRetries: 0 });
    const { data, response } = await sdk.images
      .generate({ model: 'pixel/sketch', prompt: 'a pear', size: '256x256', response_format: 'url' })
      .withResponse();
    expect(data.data?.[0]?.url).toMatch(/\/files\//);
    expect(response.headers.get('pixel-auth')).toMatch(/token ignored/);
    const wrong = await json(
      s.t,
      '/pixel.v1.ModelService/ListModels',
      {},
      {
        authorization: 'Bearer pxl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      },
    );
    expect(wrong.status).toBe(401);
    const wrongRest = await fetch(`${s.t.url}/v1/models`, {
      headers: { authorization: 'Bearer pxl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    });
    expect(wrongRest.status).toBe(401);
  });

  it('a request forwarded by a proxy is never local: no key, no service', async () => {
    const proxied = await json(
      s.t,
      '/pixel.v1.ModelService/ListModels',
      {},
      { 'x-forwarded-for': '203.0.113.5' },
    );
    expect(proxied.status).toBe(401);
    const rest = await fetch(`${s.t.url}/v1/models`, { headers: { forwarded: 'for=127.0.0.1' } });
    expect(rest.status).toBe(401);
    const withKey = await json(
      s.t,
      '/pixel.v1.ModelService/ListModels',
      {},
      {
        'x-forwarded-for': '203.0.113.5',
        authorization: `Bearer ${grocery}`,
      },
    );
    expect(withKey.status).toBe(200);
    // The header came from an untrusted peer: the logged client is the peer, not the forwarded address.
    const line = s.t.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'rpc' && l.rpc === 'pixel.v1.ModelService/ListModels' && l.team === 'grocery')
      .at(-1);
    expect(line?.client).toBe('127.0.0.1');
  });

  it('refuses host names outside the allowlist on every surface (DNS rebinding)', async () => {
    const body = JSON.stringify(sketch);
    const rebound = await raw(s.t, {
      path: '/pixel.v1.ImageService/Generate',
      method: 'POST',
      headers: { host: 'attacker.example:8080', 'content-type': 'application/json' },
      body,
    });
    expect(rebound.status).toBe(421);
    expect(rebound.body).toContain('host_not_allowed');
    expect((await raw(s.t, { path: '/v1/models', headers: { host: 'attacker.example' } })).status).toBe(421);
    expect((await raw(s.t, { path: '/metrics', headers: { host: 'attacker.example' } })).status).toBe(421);
    // Liveness probes answer under any host name (they reveal nothing; a Kubernetes probe names the pod IP).
    expect((await raw(s.t, { path: '/healthz', headers: { host: 'attacker.example' } })).status).toBe(200);
    expect(
      (await raw(s.t, { path: '/v1/models', headers: { host: `localhost:${new URL(s.t.url).port}` } }))
        .status,
    ).toBe(200);
    // gRPC over HTTP/2: the :authority is checked the same way.
    const session = connect(s.t.url);
    try {
      const answer = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const stream = session.request({
          ':method': 'POST',
          ':path': '/pixel.v1.ModelService/ListModels',
          ':authority': 'attacker.example',
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        stream.on('response', (headers) => {
          stream.resume();
          resolve(headers);
        });
        stream.on('error', reject);
        stream.end(Buffer.from([0, 0, 0, 0, 0]));
      });
      expect(answer[':status']).toBe(421);
      expect(answer['grpc-status']).toBe('7');
    } finally {
      session.close();
    }
  });

  it('answers CORS preflights of PIXEL_CORS_ORIGINS only, exposing Connect and gRPC-Web headers', async () => {
    const preflight = await raw(s.t, {
      path: '/pixel.v1.ModelService/ListModels',
      method: 'OPTIONS',
      headers: {
        host: 'localhost',
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, connect-protocol-version',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const call = await json(
      s.t,
      '/pixel.v1.ModelService/ListModels',
      {},
      { origin: 'https://app.example.com' },
    );
    expect(call.status).toBe(200);
    expect(call.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(call.headers.get('access-control-expose-headers')).toMatch(/grpc-status.*grpc-message/);
    const evil = await json(s.t, '/pixel.v1.ImageService/Generate', sketch, {
      origin: 'https://evil.example',
    });
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('anonymous access ends by itself', () => {
  it('once a team key exists (the start-up line says so), while the bootstrap key alone keeps it', {
    timeout: 120_000,
  }, async () => {
    const s = await withDb({ PIXEL_KEY_CACHE_MS: '0' });
    try {
      const started = s.t.logs
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'pixel listening');
      expect(String(started?.auth)).toMatch(
        /members of team "local".*ends by itself once a team key is created/,
      );
      expect(s.t.notices).toHaveLength(1); // the bootstrap admin key was created
      expect((await json(s.t, '/pixel.v1.ModelService/ListModels', {})).status).toBe(200);
      const created = await s.keys.createKey({ team: 'grocery', role: 'member' });
      const refused = await json(s.t, '/pixel.v1.ModelService/ListModels', {});
      expect(refused.status).toBe(401);
      // Revoking the key does not reopen anonymous access.
      await s.keys.revoke(created.id);
      expect((await json(s.t, '/pixel.v1.ModelService/ListModels', {})).status).toBe(401);
      expect((await fetch(`${s.t.url}/v1/models`, { headers: { authorization: 'Bearer x' } })).status).toBe(
        401,
      );
      await s.t.restart();
      const line = s.t.logs
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === 'pixel listening')
        .at(-1);
      expect(String(line?.auth)).toMatch(/anonymous access has ended/);
    } finally {
      await s.stop();
    }
  });

  it('at once with PIXEL_REQUIRE_KEYS=true', { timeout: 120_000 }, async () => {
    const t = await startTestServer({ env: { PIXEL_REQUIRE_KEYS: 'true' } });
    try {
      expect((await json(t, '/pixel.v1.ModelService/ListModels', {})).status).toBe(401);
      expect(
        (await json(t, '/pixel.v1.ModelService/ListModels', {}, { authorization: 'Bearer x' })).status,
      ).toBe(401);
    } finally {
      await t.stop();
    }
  });

  it('a reserved bootstrap name cannot be given to another key', async () => {
    const db = await openDatabase({ memory: true });
    try {
      await expect(
        new ApiKeyRepo(db).createKey({ team: 't', role: 'admin', name: 'Bootstrap' }),
      ).rejects.toThrow(/reserved/);
    } finally {
      await db.close();
    }
  });
});

describe('binding', () => {
  it('refuses to start on a non-loopback address without PIXEL_ALLOWED_HOSTS unless keys are required', {
    timeout: 120_000,
  }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pixel-bind-'));
    try {
      const env = {
        PIXEL_HOST: '0.0.0.0',
        PIXEL_PORT: '0',
        PIXEL_DATA_DIR: dataDir,
        PIXEL_SWEEP_INTERVAL_MS: '0',
      };
      const refused = await startServer(serverConfigFromEnv(env), { env, notice: () => {} }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(PixelError.isInstance(refused) && refused.field).toBe('PIXEL_ALLOWED_HOSTS');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    // With keys required it starts (and serves any Host: every request needs a key).
    const t = await startTestServer({ env: { PIXEL_HOST: '0.0.0.0', PIXEL_REQUIRE_KEYS: 'true' } });
    try {
      expect((await raw(t, { path: '/healthz', headers: { host: '10.1.2.3:8080' } })).status).toBe(200);
    } finally {
      await t.stop();
    }
  });
});

describe('per-team limits', () => {
  let t: TestServer;
  const clock = new ManualClock(1_000 * 60_000);
  beforeAll(async () => {
    t = await startTestServer({
      env: { PIXEL_TEAM_RPM: '2', PIXEL_ALLOW_ANONYMOUS: 'true' },
      deps: { clock },
    });
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  it('refuses requests over the team rate with 429 + Retry-After on REST and resource_exhausted on Connect', async () => {
    expect((await fetch(`${t.url}/v1/models`)).status).toBe(200);
    clock.advance(15_000);
    expect((await json(t, '/pixel.v1.ModelService/ListModels', {})).status).toBe(200);
    const rest = await fetch(`${t.url}/v1/models`);
    expect(rest.status).toBe(429);
    expect(rest.headers.get('retry-after')).toBe('45');
    expect(((await rest.json()) as { error: { type: string } }).error.type).toBe('rate_limit_error');
    const connect = await json(t, '/pixel.v1.ModelService/ListModels', {});
    expect(connect.status).toBe(429);
    expect(((await connect.json()) as { code: string }).code).toBe('resource_exhausted');
    expect(connect.headers.get('retry-after')).toBe('45');
    // gRPC over HTTP/2: RESOURCE_EXHAUSTED, with the wait in the trailers.
    const grpc = new Client(new URL(t.url).host, credentials.createInsecure());
    try {
      const status = await new Promise<StatusObject>((resolve) => {
        const call = grpc.makeUnaryRequest(
          '/pixel.v1.ModelService/ListModels',
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.alloc(0),
          () => {},
        );
        call.on('status', resolve);
      });
      expect(status.code).toBe(8);
      expect(status.metadata.get('retry-after')).toEqual(['45']);
    } finally {
      grpc.close();
    }
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/pixel_limit_rejections_total\{team="local",limit="team_rpm"\} 3/);
    clock.advance(120_000);
    expect((await fetch(`${t.url}/v1/models`)).status).toBe(200);
  });
});
