import { closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PixelError } from '../protocol/errors.ts';

const LOCK_FILE = 'pixel.lock';

/** Who holds a data folder: the process, and the URL of the server it runs (when it is `pixel serve`). */
export interface LockHolder {
  pid: number;
  /** Written by a server once it listens (see `advertiseServer`). */
  url?: string;
}

/**
 * PGlite is one process's database: a second process opening the same folder would corrupt it.
 * An exclusive lock file holding the owner's pid keeps the second one out with a clear message; a
 * lock left by a process that no longer runs is taken over. The file's first line is the pid; a server
 * adds its URL on the second line, so a CLI that finds the folder taken can send its request there.
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
      const holder = parseLock(safeRead(path));
      if (holder !== undefined && (holder.pid === process.pid || isRunning(holder.pid))) {
        const owner = holder.pid;
        const who =
          owner === process.pid
            ? ' (this one: it is already open)'
            : holder.url !== undefined
              ? ` (\`pixel serve\` at ${holder.url})`
              : ' (a running `pixel serve`?)';
        throw new PixelError({
          code: 'failed_precondition',
          reason: 'data_dir_in_use',
          field: 'PIXEL_DATA_DIR',
          message: `the embedded catalogue in ${dir} is in use by process ${owner}${who}; stop it first, or point both at a PostgreSQL server with DATABASE_URL`,
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

/**
 * Records on this process's lock of `dir` the URL its server answers on. The lock file is replaced in one
 * rename, so it never stops existing (no other process can take it meanwhile). Does nothing when this
 * process does not hold the lock.
 */
export function advertiseServer(dir: string, url: string): boolean {
  const path = join(dir, LOCK_FILE);
  if (parseLock(safeRead(path))?.pid !== process.pid) return false;
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${process.pid}\n${url}\n`);
  renameSync(temp, path);
  return true;
}

/** The live process holding `dir`'s lock, with its server's URL if it advertised one; undefined if none. */
export function lockHolder(dir: string): LockHolder | undefined {
  const holder = parseLock(safeRead(join(dir, LOCK_FILE)));
  return holder !== undefined && (holder.pid === process.pid || isRunning(holder.pid)) ? holder : undefined;
}

function parseLock(text: string): LockHolder | undefined {
  const [first = '', second = ''] = text.split('\n');
  const pid = Number.parseInt(first, 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const url = second.trim();
  return /^https?:\/\/[^\s]+$/.test(url) ? { pid, url } : { pid };
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
