import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = process.env.PIXEL_BENCH_DATA_DIR || new URL('../.tmp/bench/', import.meta.url).pathname;

/**
 * A fresh folder for a benchmarked server's data, under the project's `.tmp/bench/` (git-ignored), the
 * way `npm start` keeps its data under `./data` in the working folder: not in the system temp folder.
 * `PIXEL_BENCH_DATA_DIR` puts these folders elsewhere (the disk a deployment would use, say).
 *
 * Why it matters here: this machine's root filesystem is ext4 without a journal, where making a file
 * scans past every inode of its block group deleted in the last minutes (ext4's recently_deleted(),
 * seen in `perf`). In a group where thousands of files were just removed (the test suite's temp
 * folders, or the previous bench run's data), a new file cost ~1–2 ms of kernel time against ~0.07 ms
 * in another group of the same disk: that measures the leftovers, not the server. So the root is
 * marked as a top of directory hierarchies (`chattr +T`), which makes ext4 spread the folders made in
 * it over block groups the way it spreads top-level folders, away from the last run's deletions.
 */
export function benchDataDir(prefix: string): string {
  return mkdtempSync(join(benchDataRoot(), prefix));
}

/** The folder benchDataDir makes its folders in (created, and marked for ext4, when missing). */
export function benchDataRoot(): string {
  if (!existsSync(ROOT)) {
    mkdirSync(ROOT, { recursive: true });
    try {
      execFileSync('chattr', ['+T', ROOT], { stdio: 'ignore' });
    } catch {
      // Not ext4, or no chattr: folders then stay near their parent, as usual.
    }
  }
  return ROOT;
}
