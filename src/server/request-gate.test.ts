import { createServer, request } from 'node:http';
import { connect, createServer as createH2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestGateFor } from './access.ts';
import { createCorsPolicy, parseCorsOrigins } from './cors.ts';
import { createHostAllowlist, hostName } from './host-allowlist.ts';
import { createRequestGate } from './request-gate.ts';

const gate = createRequestGate({
  hosts: createHostAllowlist({ bindHost: '127.0.0.1', allowedHosts: ['pixel.internal'], requireKeys: false }),
  cors: createCorsPolicy(parseCorsOrigins('https://app.example.com')),
});
const h1 = createServer((req, res) => {
  if (gate.admit(req, res)) res.end('served');
});
const h2 = createH2Server((req, res) => {
  if (gate.admit(req, res)) res.end('served');
});
let port1 = 0;
let port2 = 0;

beforeAll(async () => {
  await new Promise<void>((r) => h1.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
  port1 = (h1.address() as AddressInfo).port;
  port2 = (h2.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => h1.close(r));
  await new Promise((r) => h2.close(r));
});

function get(headers: Record<string, string>, method = 'GET', path = '/x') {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: port1, path, method, headers }, (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

function h2get(headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
    const session = connect(`http://127.0.0.1:${port2}`);
    session.on('error', reject);
    const stream = session.request({ ':path': '/x', ...headers });
    stream.on('response', (h) => {
      stream.resume();
      stream.on('end', () => {
        session.close();
        resolve({ status: Number(h[':status']), headers: h });
      });
    });
    stream.on('error', reject);
    stream.end();
  });
}

describe('host allowlist', () => {
  it('parses Host values', () => {
    expect(hostName('LocalHost:8080')).toBe('localhost');
    expect(hostName('[::1]:99')).toBe('[::1]');
    expect(hostName('example.com.')).toBe('example.com');
    expect(hostName('a b')).toBeUndefined();
    expect(hostName('evil.com:80x')).toBeUndefined();
    expect(hostName('')).toBeUndefined();
  });

  it('serves loopback names at any port and the names listed, refuses others with 421 (HTTP/1.1)', async () => {
    for (const host of ['localhost:8080', '127.0.0.1', '[::1]:1234', 'pixel.internal:443']) {
      expect((await get({ host })).status, host).toBe(200);
    }
    const evil = await get({ host: 'rebind.attacker.example:8080' });
    expect(evil.status).toBe(421);
    expect(JSON.parse(evil.body).error).toMatchObject({ field: 'host', reason: 'host_not_allowed' });
    expect(evil.body).toContain('PIXEL_ALLOWED_HOSTS');
  });

  it('lets liveness probes through under any host name (a probe names the pod IP), and nothing else', async () => {
    for (const path of ['/healthz', '/readyz', '/grpc.health.v1.Health/Check']) {
      const method = path.startsWith('/grpc') ? 'POST' : 'GET';
      expect((await get({ host: '10.4.0.17:8080' }, method, path)).status, path).toBe(200);
    }
    expect((await get({ host: '10.4.0.17:8080' }, 'GET', '/healthz/../files/x')).status).toBe(421);
    expect((await get({ host: '10.4.0.17:8080' }, 'GET', '/v1/models')).status).toBe(421);
  });

  it('checks :authority on HTTP/2, answering gRPC callers with a grpc-status', async () => {
    expect((await h2get({ ':authority': 'localhost:1' })).status).toBe(200);
    const refused = await h2get({ ':authority': 'attacker.example', 'content-type': 'application/grpc' });
    expect(refused.status).toBe(421);
    expect(refused.headers['grpc-status']).toBe('7');
  });

  it('refuses to bind a non-loopback address without a list unless keys are required', () => {
    expect(() => createHostAllowlist({ bindHost: '0.0.0.0', allowedHosts: [], requireKeys: false })).toThrow(
      /PIXEL_ALLOWED_HOSTS/,
    );
    const open = createHostAllowlist({ bindHost: '0.0.0.0', allowedHosts: [], requireKeys: true });
    expect(open.allows('10.1.2.3:8080')).toBe(true);
    const fromPublicUrl = requestGateFor({
      host: '127.0.0.1',
      requireKeys: false,
      allowAnonymous: false,
      allowedHosts: [],
      corsOrigins: [],
      trustedProxies: [],
      keyCacheMs: 0,
      limits: { teamRpm: 0, teamConcurrency: 0, keyRpm: 0, keyConcurrency: 0 },
      publicUrl: 'https://images.example.com:8443',
    });
    expect(fromPublicUrl.hosts.allows('images.example.com:8443')).toBe(true);
    expect(fromPublicUrl.hosts.allows('other.example.com')).toBe(false);
    const listed = createHostAllowlist({
      bindHost: '0.0.0.0',
      allowedHosts: ['pixel.example.com'],
      requireKeys: false,
    });
    expect(listed.allows('pixel.example.com')).toBe(true);
    expect(listed.allows('10.1.2.3')).toBe(false);
  });
});

describe('CORS', () => {
  it('adds nothing and serves requests without an Origin', async () => {
    const res = await get({ host: 'localhost' });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers the preflight of a named origin and exposes the Connect and gRPC-Web headers', async () => {
    const res = await get(
      {
        host: 'localhost',
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,connect-protocol-version',
      },
      'OPTIONS',
    );
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(String(res.headers['access-control-allow-headers'])).toMatch(/connect-protocol-version/);
    expect(String(res.headers['access-control-allow-headers'])).toMatch(/x-grpc-web/);
    expect(String(res.headers['access-control-allow-methods'])).toMatch(/POST/);
    const simple = await get({ host: 'localhost', origin: 'https://app.example.com' });
    expect(simple.status).toBe(200);
    expect(simple.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const exposed = String(simple.headers['access-control-expose-headers']);
    for (const name of [
      'grpc-status',
      'grpc-message',
      'grpc-status-details-bin',
      'connect-protocol-version',
    ]) {
      expect(exposed).toContain(name);
    }
  });

  it('refuses other origins (preflight and simple requests); same-origin requests pass', async () => {
    const pre = await get(
      { host: 'localhost', origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      'OPTIONS',
    );
    expect(pre.status).toBe(403);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    expect((await get({ host: 'localhost', origin: 'https://evil.example' })).status).toBe(403);
    expect((await get({ host: 'localhost:9', origin: 'null' })).status).toBe(403);
    expect((await get({ host: 'localhost:9', origin: 'http://localhost:9' })).status).toBe(200);
    expect(() => parseCorsOrigins('*')).toThrow(/PIXEL_CORS_ORIGINS/);
    expect(() => parseCorsOrigins('https://a.example/path')).toThrow(/PIXEL_CORS_ORIGINS/);
  });
});
