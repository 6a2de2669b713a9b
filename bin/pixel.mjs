#!/usr/bin/env node
// Pixel runs on Node >= 22.18 (TypeScript type stripping). npm puts the project's Node 24 first on PATH
// for `npx pixel` and npm scripts; when an older system Node runs this file directly, re-run with Node 24.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'src', 'cli', 'main.ts');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major > 22 || (major === 22 && minor >= 18)) {
  await import(main);
} else {
  const local = join(root, 'node_modules', '.bin', 'node');
  if (!existsSync(local)) {
    console.error(
      `pixel needs Node 22.18 or newer (this is ${process.version}); run \`npm ci\` to install Node 24 locally`,
    );
    process.exit(1);
  }
  const result = spawnSync(local, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
