import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { PixelError } from '../protocol/errors.ts';
import type { Authenticator } from './auth.ts';
import { registerWebUi, UI_ROUTES } from './web-ui.ts';

const auth = {
  anonymous: {} as Authenticator['anonymous'],
  async authenticate(input) {
    if (input.authorization === 'Bearer pxl_good')
      return { caller: { team: 'grocery', role: 'viewer', keyId: 'k1' }, origin: { local: true } };
    if (input.authorization)
      throw new PixelError({ code: 'unauthenticated', message: 'the API key is not valid' });
    return { caller: { team: 'local', role: 'member' }, origin: { local: true }, notice: 'anonymous' };
  },
} as Authenticator;

const dirs: string[] = [];
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function build(withFiles: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'pixel-web-'));
  dirs.push(dir);
  if (withFiles) {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log("pixel");'.repeat(50));
  }
  return dir;
}

async function serve(distDir: string): Promise<FastifyInstance> {
  app = Fastify();
  registerWebUi(app, { auth, distDir });
  await app.ready();
  return app;
}

describe('the web UI route', () => {
  it('answers every page path with index.html, uncached, under a strict content security policy', async () => {
    const server = await serve(build(true));
    for (const path of ['/', '/history', '/images/img_01ABC', '/apps/produce', '/compare', '/usage']) {
      const res = await server.inject({ url: path });
      expect(res.statusCode, path).toBe(200);
      expect(res.body).toContain('<div id="root">');
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    }
    expect(UI_ROUTES).toContain('/images/:id');
    expect((await server.inject({ url: '/v1/unknown' })).statusCode).toBe(404);
  });

  it('serves hashed assets for a year, gzipped when the browser accepts it, and 404s unknown ones', async () => {
    const server = await serve(build(true));
    const plain = await server.inject({ url: '/assets/index-abc.js' });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const gz = await server.inject({
      url: '/assets/index-abc.js',
      headers: { 'accept-encoding': 'br, gzip' },
    });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.rawPayload.byteLength).toBeLessThan(plain.rawPayload.byteLength);
    expect(gunzipSync(gz.rawPayload).toString()).toBe(plain.body);
    const missing = await server.inject({ url: '/assets/nope.js' });
    expect(missing.statusCode).toBe(404);
    expect((await server.inject({ url: '/assets/../index.html' })).statusCode).not.toBe(200);
  });

  it('says how to build the UI when there is no build', async () => {
    const server = await serve(build(false));
    const res = await server.inject({ url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build:web');
  });

  it('tells the app who a key (or no key) is, and refuses a bad key', async () => {
    const server = await serve(build(true));
    const anonymous = await server.inject({ url: '/ui/session' });
    expect(anonymous.json()).toEqual({ team: 'local', role: 'member', anonymous: true });
    expect(anonymous.headers['cache-control']).toBe('no-store');
    const keyed = await server.inject({ url: '/ui/session', headers: { authorization: 'Bearer pxl_good' } });
    expect(keyed.json()).toEqual({ team: 'grocery', role: 'viewer', anonymous: false });
    const bad = await server.inject({ url: '/ui/session', headers: { authorization: 'Bearer pxl_bad' } });
    expect(bad.statusCode).toBe(401);
  });
});
