import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = process.env.PIXEL_BENCH_DATA_DIR || new URL('../.tmp/bench/', import.meta.url).pathname;

/**
 * A fresh folder for a benchmarked server's data, under the project's `.tmp/bench/` (git-ignored), the
 * way `npm start` keeps its data under `./data` in the working folder: not in the system temp folder.
 *
 * Why it matters here: this machine's root filesystem is ext4 without a journal, where creating a
 * file scans past every inode of its block group deleted in the last minutes (ext4's
 * recently_deleted(), seen in `perf`). Right after the test suite has created and removed thousands
 * of temp folders, a new file under /tmp cost ~2 ms of kernel time against ~0.15 ms elsewhere on the
 * same disk, which measures the test suite's leftovers rather than the server.
 * `PIXEL_BENCH_DATA_DIR` puts these folders elsewhere (the disk a deployment would use, say).
 */
export function benchDataDir(prefix: string): string {
  return mkdtempSync(join(benchDataRoot(), prefix));
}

/** The folder benchDataDir makes its folders in (created when missing). */
export function benchDataRoot(): string {
  mkdirSync(ROOT, { recursive: true });
  return ROOT;
}
