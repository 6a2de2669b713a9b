/**
 * Builds the web UI (web/ → web/dist) when it is missing or older than its sources; `--force` always
 * builds. `npm start` runs it first (prestart, with --if-possible), `npm test` before the browser tests.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WEB = join(ROOT, 'web');
const DIST = join(WEB, 'dist');
const STAMP = join(DIST, '.built');
/** What the bundle is made of: the app, its config, and the generated RPC clients it imports. */
const SOURCES = [
  join(WEB, 'src'),
  join(WEB, 'index.html'),
  join(WEB, 'vite.config.ts'),
  join(ROOT, 'src', 'gen'),
];

function newest(path: string, depth = 0): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  if (depth > 8) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry), depth + 1));
  return latest;
}

/** True when web/dist is missing or older than any of its sources. */
export function webBuildStale(): boolean {
  if (!existsSync(STAMP) || !existsSync(join(DIST, 'index.html'))) return true;
  const built = statSync(STAMP).mtimeMs;
  return SOURCES.some((source) => newest(source) > built);
}

/** Builds when stale (or forced); returns whether it built. */
export async function ensureWebBuild(options: { force?: boolean; quiet?: boolean } = {}): Promise<boolean> {
  if (!options.force && !webBuildStale()) return false;
  const { build } = await import('vite');
  // Vite and the React plugin pick React's development build and JSX runtime from NODE_ENV, which is
  // `test` inside Vitest: the UI is always built for production.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: join(WEB, 'vite.config.ts'), logLevel: options.quiet ? 'warn' : 'info' });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  return true;
}

if (import.meta.main) {
  const force = process.argv.includes('--force');
  // --if-possible (npm start): a failed build must not stop the server; it then says the UI is not built.
  const lenient = process.argv.includes('--if-possible');
  try {
    const built = await ensureWebBuild({ force });
    if (!built) process.stdout.write('web UI is up to date (web/dist)\n');
  } catch (error) {
    if (!lenient) throw error;
    process.stderr.write(
      `pixel: the web UI could not be built (${(error as Error).message}); the API still runs\n`,
    );
  }
}
