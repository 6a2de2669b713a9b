// Fails when src/gen is stale: regenerates from proto/ into a temp folder and compares byte for byte.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const temp = mkdtempSync(join(tmpdir(), 'pixel-gen-'));
try {
  const run = spawnSync('buf', ['generate', '-o', temp], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
  const fresh = listFiles(join(temp, 'src/gen'));
  const committed = listFiles(join(root, 'src/gen'));
  const problems: string[] = [];
  for (const file of new Set([...fresh, ...committed])) {
    const a = readOrNull(join(temp, 'src/gen', file));
    const b = readOrNull(join(root, 'src/gen', file));
    if (a === null) problems.push(`src/gen/${file} has no proto source any more`);
    else if (b === null) problems.push(`src/gen/${file} is missing`);
    else if (a !== b) problems.push(`src/gen/${file} is stale`);
  }
  if (problems.length > 0) {
    console.error(`generated code is out of date (run \`npm run gen\`):\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`generated code is up to date (${fresh.length} files)`);
} finally {
  rmSync(temp, { recursive: true, force: true });
}

function listFiles(dir: string, base = dir): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(listFiles(path, base));
    else out.push(relative(base, path));
  }
  return out;
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
