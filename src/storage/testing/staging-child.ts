// A process that opens a local store, fills its staging area with spares and then waits to be killed
// (staging.kill.test.ts). Prints `ready <entries>` once every spare is made.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LocalBlobStore } from '../local.ts';

const dir = process.argv[2];
const wanted = Number(process.argv[3] ?? '48');
if (!dir) throw new Error('usage: staging-child.ts <store dir> [spares]');
const store = new LocalBlobStore({ dir, publicBaseUrl: 'http://127.0.0.1:1' });
store.anticipatePut();
let checks = 0;
const poll = setInterval(() => {
  const entries = readdirSync(join(dir, '.staging')).length;
  if (entries >= wanted) {
    clearInterval(poll);
    process.stdout.write(`ready ${entries}\n`);
    setInterval(() => {}, 60_000); // stay alive until killed
  } else if (++checks > 1000) {
    process.stdout.write(`stuck ${entries}\n`);
    process.exit(1);
  }
}, 10);
