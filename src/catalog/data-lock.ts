import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PixelError } from '../protocol/errors.ts';

const LOCK_FILE = 'pixel.lock';

/**
 * PGlite is one process's database: a second process opening the same folder would corrupt it.
 * An exclusive lock file holding the owner's pid keeps the second one out with a clear message; a
 * lock left by a process that no longer runs is taken over.
 */
export function lockDataDir(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(safeRead(path), 10);
      if (Number.isInteger(owner) && owner > 0 && (owner === process.pid || isRunning(owner))) {
        throw new PixelError({
          code: 'failed_precondition',
          reason: 'data_dir_in_use',
          field: 'PIXEL_DATA_DIR',
          message: `the embedded catalogue in ${dir} is in use by process ${owner}${owner === process.pid ? ' (this one: it is already open)' : ' (a running `pixel serve`?)'}; stop it first, or point both at a PostgreSQL server with DATABASE_URL`,
        });
      }
      rmSync(path, { force: true }); // stale: its owner is gone
    }
  }
  throw new PixelError({
    code: 'aborted',
    reason: 'data_dir_in_use',
    field: 'PIXEL_DATA_DIR',
    message: `could not lock ${dir}`,
  });
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
