import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Starts a throwaway PostgreSQL server from Debian's packages (tests and benchmarks). The server refuses
 * to run as root, so as root the cluster belongs to `postgres` and commands go through runuser.
 */
export interface PostgresServer {
  /** Superuser URL (user `pixel`, database `postgres`) on 127.0.0.1. */
  url: string;
  stop(): Promise<void>;
}

/** The newest `/usr/lib/postgresql/<v>/bin` holding initdb and pg_ctl, or undefined. */
export function findPostgresBin(root = '/usr/lib/postgresql'): string | undefined {
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** `durable: true` keeps PostgreSQL's default fsync/commit settings (benchmarks); tests turn them off. */
export async function startPostgres(
  bin: string,
  options: { durable?: boolean } = {},
): Promise<PostgresServer> {
  const asRoot = process.getuid?.() === 0;
  const base = mkdtempSync(join(tmpdir(), 'pixel-pg-'));
  const dataDir = join(base, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  let exec = (cmd: string, args: string[]) => run(join(bin, cmd), args, { timeout: 60_000 });
  if (asRoot) {
    const { uid, gid } = await postgresIds();
    chownSync(base, uid, gid);
    chownSync(dataDir, uid, gid);
    exec = (cmd, args) =>
      run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { timeout: 60_000 });
  }
  const cleanup = () => rmSync(base, { recursive: true, force: true });
  try {
    await exec('initdb', [
      '-D',
      dataDir,
      '-A',
      'trust',
      '-U',
      'pixel',
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
  } catch (error) {
    cleanup();
    throw error;
  }
  // The free port can be taken between probing and binding: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    // Tests do not test durability; fsync off keeps a 2-core machine responsive.
    const fast = options.durable ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off';
    const opts = `-p ${port} -k ${base} -c listen_addresses=127.0.0.1 -c max_connections=200${fast}`;
    try {
      await exec('pg_ctl', ['-D', dataDir, '-o', opts, '-l', join(base, 'log'), '-w', '-t', '60', 'start']);
      return {
        url: `postgres://pixel@127.0.0.1:${port}/postgres`,
        async stop() {
          try {
            await exec('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
          } finally {
            cleanup();
          }
        },
      };
    } catch (error) {
      lastError = error;
    }
  }
  cleanup();
  throw lastError;
}

/** A fresh, empty database on the server, so each suite starts clean; returns its URL. */
export async function createTestDatabase(serverUrl: string, name?: string): Promise<string> {
  const { default: pg } = await import('pg');
  const dbName = name ?? `pixel_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(dbName)) throw new Error(`bad database name ${dbName}`);
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${dbName}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  return url.toString();
}
