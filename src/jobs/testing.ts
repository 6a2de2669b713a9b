import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composePlatform, type Platform, type PlatformDeps } from '../platform/compose.ts';
import { platformConfigFromEnv } from '../platform/config.ts';

/** A platform on a fresh data folder (embedded PGlite in-process, local blobs) for batch tests. */
export async function tempPlatform(
  env: Record<string, string> = {},
  deps: Omit<PlatformDeps, 'env'> = {},
): Promise<{ platform: Platform; dir: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'pixel-jobs-'));
  const fullEnv = { PIXEL_DATA_DIR: dir, ...env };
  const platform = await composePlatform(platformConfigFromEnv(fullEnv), { env: fullEnv, ...deps });
  return {
    platform,
    dir,
    async close() {
      await platform.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` every `everyMs` until it returns a value, at most `timeoutMs`; throws with `what` after. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  options: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const everyMs = options.everyMs ?? 50;
  const rounds = Math.ceil((options.timeoutMs ?? 20_000) / everyMs);
  for (let i = 0; i < rounds; i++) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A pass-through HTTP proxy in front of a provider fake that counts the requests it has open at once. */
export interface CountingProxy {
  /** The fake's URL through the proxy (same path). */
  url: string;
  /** Requests matching `counted` open now, and the most open at any moment since the last reset. */
  readonly open: number;
  readonly most: number;
  reset(): void;
  close(): Promise<void>;
}

export async function startCountingProxy(
  target: string,
  counted: (path: string) => boolean,
): Promise<CountingProxy> {
  const to = new URL(target);
  let open = 0;
  let most = 0;
  const server = createServer((req, res) => {
    const counts = counted(req.url ?? '');
    if (counts) most = Math.max(most, ++open);
    let closed = false;
    const done = () => {
      if (counts && !closed) open--;
      closed = true;
    };
    const upstream = request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('end', done);
        answer.on('error', done);
      },
    );
    upstream.on('error', () => {
      done();
      res.destroy();
    });
    req.on('aborted', done);
    res.on('close', done);
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${to.pathname.replace(/\/$/, '')}`,
    get open() {
      return open;
    },
    get most() {
      return most;
    },
    reset() {
      most = open;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
