#!/usr/bin/env node
// Pixel runs on Node >= 22.18 (TypeScript type stripping). npm puts the project's Node 24 first on PATH
// for `npx pixel` and npm scripts; when an older system Node runs this file directly, re-run with Node 24.
// `pixel serve` also re-runs node with the server's V8 flags (src/server/node-flags.ts), which only
// take effect at process start.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// keep equal to src/server/node-flags.ts
const SERVER_NODE_FLAGS = [
  '--max-semi-space-size=4',
  '--no-allocation-site-pretenuring',
  '--heap-growing-percent=200',
];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'src', 'cli', 'main.ts');
const args = process.argv.slice(2);
const [major, minor] = process.versions.node.split('.').map(Number);
const modern = major > 22 || (major === 22 && minor >= 18);
const wantsFlags = args[0] === 'serve' && !SERVER_NODE_FLAGS.every((f) => process.execArgv.includes(f));

if (modern && !wantsFlags) {
  await import(main);
} else {
  const local = join(root, 'node_modules', '.bin', 'node');
  const node = modern ? process.execPath : local;
  if (!modern && !existsSync(local)) {
    console.error(
      `pixel needs Node 22.18 or newer (this is ${process.version}); run \`npm ci\` to install Node 24 locally`,
    );
    process.exit(1);
  }
  const flags = args[0] === 'serve' ? SERVER_NODE_FLAGS : [];
  const result = spawnSync(node, [...flags, main, ...args], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
