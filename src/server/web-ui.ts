import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PixelError } from '../protocol/errors.ts';
import type { Authenticator } from './auth.ts';
import type { Caller } from './image-service.ts';

/** Where `npm run build:web` puts the web UI. */
export const WEB_DIST_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'dist');

/** The single-page app's own paths: each answers with index.html, and the app picks the page. */
export const UI_ROUTES = [
  '/',
  '/history',
  '/images/:id',
  '/compare',
  '/review',
  '/apps',
  '/apps/:name',
  '/fine-tunes',
  '/usage',
] as const;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
};

/**
 * Images come from this server's /files or from the bucket (any https URL, presigned); scripts, styles and
 * API calls only from this origin.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: https: http:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

interface Asset {
  body: Buffer;
  /** Gzipped once at start for text assets (browsers always accept gzip). */
  gzip?: Buffer;
  type: string;
}

const COMPRESSIBLE = new Set(['.js', '.css', '.html', '.svg', '.json']);

/** Every file of the build, read once (the whole UI is a few hundred KB). */
function loadBuild(dir: string): { index: Buffer; assets: Map<string, Asset> } | undefined {
  const indexPath = join(dir, 'index.html');
  if (!existsSync(indexPath)) return undefined;
  const assets = new Map<string, Asset>();
  const walk = (folder: string, depth: number) => {
    if (depth > 4) return;
    for (const entry of readdirSync(folder)) {
      const path = join(folder, entry);
      if (statSync(path).isDirectory()) walk(path, depth + 1);
      else {
        const url = `/${relative(dir, path).split(sep).join('/')}`;
        const body = readFileSync(path);
        const ext = extname(path);
        assets.set(url, {
          body,
          ...(COMPRESSIBLE.has(ext) && { gzip: gzipSync(body, { level: 9 }) }),
          type: TYPES[ext] ?? 'application/octet-stream',
        });
      }
    }
  };
  walk(dir, 0);
  return { index: readFileSync(indexPath), assets };
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Pixel</title></head>
<body><main><h1>The web UI is not built</h1><p>Run <code>npm run build:web</code> (or <code>npm start</code>,
which builds it when it is missing), then reload. The API on this port works without it.</p></main></body></html>`;

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
}

/**
 * The web UI on the server's own port: the single-page app at `/` (and its page paths), its hashed
 * assets under `/assets/` (cached for a year), and `/ui/session`, which tells the app who a key (or no
 * key) is. Without a build, the page paths say how to build it.
 */
export function registerWebUi(app: FastifyInstance, deps: { auth: Authenticator; distDir?: string }): void {
  const build = loadBuild(deps.distDir ?? WEB_DIST_DIR);

  for (const path of UI_ROUTES) {
    app.get(path, async (_request, reply) =>
      secure(reply)
        .header('cache-control', 'no-cache')
        .type('text/html; charset=utf-8')
        .status(build ? 200 : 503)
        .send(build ? build.index : NOT_BUILT),
    );
  }

  app.get('/assets/*', async (request, reply) => {
    const path = request.url.split('?')[0]!;
    const asset = build?.assets.get(path);
    if (!asset) {
      return reply
        .status(404)
        .type('text/plain; charset=utf-8')
        .send(`no asset ${path.slice(0, 200)}`);
    }
    const gzip = asset.gzip && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    secure(reply)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('vary', 'accept-encoding');
    if (gzip) reply.header('content-encoding', 'gzip');
    return reply.type(asset.type).send(gzip ? asset.gzip : asset.body);
  });

  app.get('/ui/session', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    let caller: Caller;
    try {
      ({ caller } = await deps.auth.authenticate({
        authorization: request.headers.authorization,
        peer: request.socket.remoteAddress,
        headers: request.headers,
      }));
    } catch (error) {
      if (!PixelError.isInstance(error)) throw error;
      return reply.status(error.httpStatus).send({ error: error.toJSON() });
    }
    return reply.send({
      team: caller.team,
      role: caller.role,
      anonymous: caller.keyId === undefined,
    });
  });
}
