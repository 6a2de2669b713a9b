import {
  close,
  closeSync,
  mkdir,
  mkdirSync,
  open,
  readdirSync,
  rmdir,
  rmSync,
  statSync,
  unlink,
} from 'node:fs';
import { join } from 'node:path';
import { uniqueToken } from '../runtime/unique.ts';

/** An empty file made ahead of time, open for writing. */
export interface SpareFile {
  path: string;
  fd: number;
}

interface Made<T> {
  value: T;
  madeAt: number;
}

/** Spares older than this are not handed out (another process's cleanup may have taken them). */
const SPARE_MAX_AGE_MS = 10 * 60_000;
/** Leftovers of a process that stopped without closing (a crash) are removed once this old. */
const LEFTOVER_AGE_MS = 60 * 60_000;

/**
 * Empty files and folders made ahead of time, on libuv's thread pool, so that a blob write never waits
 * for the filesystem to allocate an inode: a put takes a spare file, writes into it and renames it into
 * place (and, when the blob's folder is missing, renames a spare folder into place first).
 *
 * Why: making a file is most of what a blob write costs. On this machine's filesystem (ext4 without a
 * journal) creating one took 0.3–2 ms of kernel time, depending on how many files were deleted nearby
 * in the last minutes, while writing 256 KB into an open file and renaming it took ~0.1 ms
 * (bench/service.bench.ts, concurrency 1). Spares are made while requests wait for their provider.
 *
 * Everything lives in `<store>/.staging/`, outside the key space: the orphan sweeper, `list()` and
 * `/files/` never see it. Nothing here is required: without a spare, a put makes its file as before.
 *
 * When: `refill()` tops the spares up; the store calls it when it is told a put is coming (a request
 * about to wait for its provider), so the filesystem work runs while nothing else does. Making a file
 * right after a put instead put that work next to the rest of the request on this 2-core machine (~0.3 ms
 * of its time at concurrency 1). A take that leaves less than half the spares refills at once, so
 * callers that never announce their puts still get spares.
 */
export class StagingArea {
  readonly dir: string;
  readonly #spareFiles: number;
  readonly #spareFolders: number;
  readonly #files: Array<Made<SpareFile>> = [];
  readonly #folders: Array<Made<string>> = [];
  #making = { files: 0, folders: 0 };
  #broken = false;
  #closed = false;
  #ready = false;
  #idle: (() => void) | undefined;

  /**
   * `files`: spare files kept ready (one per put, so enough for a burst); `folders`: spare folders (one
   * per put only while the store's 65,536 folders are still being made).
   */
  constructor(storeDir: string, spares: { files?: number; folders?: number } = {}) {
    this.dir = join(storeDir, '.staging');
    this.#spareFiles = spares.files ?? 32;
    this.#spareFolders = spares.folders ?? 16;
  }

  /** A spare file, or undefined (none made yet, or staging failed): the caller makes its own. */
  takeFile(): SpareFile | undefined {
    const spare = this.#take(this.#files, (file) => discardFile(file));
    this.#refillIfLow(this.#files.length + this.#making.files, this.#spareFiles);
    return spare;
  }

  /** A spare empty folder to rename into place, or undefined. */
  takeFolder(): string | undefined {
    const spare = this.#take(this.#folders, (folder) => rmdir(folder, () => {}));
    this.#refillIfLow(this.#folders.length + this.#making.folders, this.#spareFolders);
    return spare;
  }

  #take<T>(spares: Array<Made<T>>, discard: (value: T) => void): T | undefined {
    const now = Date.now();
    for (let spare = spares.pop(); spare; spare = spares.pop()) {
      if (now - spare.madeAt < SPARE_MAX_AGE_MS) return spare.value;
      discard(spare.value);
    }
    return undefined;
  }

  /** The safety net for callers that never call refill(): the first take, or under half left. */
  #refillIfLow(left: number, wanted: number): void {
    if (!this.#ready || left < wanted / 2) this.refill();
  }

  /** Starts making spares (on libuv's pool) until there are enough of each. */
  refill(): void {
    if (this.#broken || this.#closed) return;
    if (!this.#ready) {
      this.#ready = true;
      try {
        this.#prepare();
      } catch {
        this.#broken = true;
        return;
      }
    }
    while (this.#files.length + this.#making.files < this.#spareFiles) this.#makeFile();
    while (this.#folders.length + this.#making.folders < this.#spareFolders) this.#makeFolder();
  }

  /**
   * Creates the staging folder and removes what a process that is gone left there (a crash, a SIGKILL):
   * spares named by a process id no longer running, or by this process id but an earlier process (ids are
   * reused, e.g. pid 1 in a restarted container). Spares of a live process are left alone; anything else
   * is removed once it is old.
   */
  #prepare(): void {
    mkdirSync(this.dir, { recursive: true });
    this.removeLeftovers();
  }

  /** The sweep #prepare does, on its own: what dead processes left (the store runs it when it opens). */
  removeLeftovers(): number {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return 0; // no staging folder yet, or not readable: nothing of ours to clean
    }
    const now = Date.now();
    let removed = 0;
    for (const name of names) {
      const path = join(this.dir, name);
      try {
        if (leftOverByGoneProcess(name) || now - statSync(path).mtimeMs > LEFTOVER_AGE_MS) {
          rmSync(path, { recursive: true, force: true });
          removed++;
        }
      } catch {
        // Taken by another process meanwhile.
      }
    }
    return removed;
  }

  #name(): string {
    return join(this.dir, `${process.pid}-${uniqueToken()}`);
  }

  #makeFile(): void {
    const path = `${this.#name()}.tmp`;
    this.#making.files++;
    open(path, 'wx', (error, fd) => {
      this.#making.files--;
      if (error) {
        this.#broken = true;
        this.#settled();
        return;
      }
      if (this.#closed) removeFileSync({ path, fd });
      else this.#files.push({ value: { path, fd }, madeAt: Date.now() });
      this.#settled();
    });
  }

  #makeFolder(): void {
    const path = `${this.#name()}.d`;
    this.#making.folders++;
    mkdir(path, (error) => {
      this.#making.folders--;
      if (error) {
        this.#broken = true;
        this.#settled();
        return;
      }
      if (this.#closed) rmSync(path, { recursive: true, force: true });
      else this.#folders.push({ value: path, madeAt: Date.now() });
      this.#settled();
    });
  }

  /** Wakes close() once nothing is being made any more. */
  #settled(): void {
    if (this.#making.files + this.#making.folders === 0) this.#idle?.();
  }

  /** How many spare files are ready to be taken (a file shows in the folder a moment before it is ready). */
  get readyFiles(): number {
    return this.#files.length;
  }

  /** Removes every spare not handed out, including those still being made (it waits for them). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const { value } of this.#files.splice(0)) removeFileSync(value);
    for (const { value } of this.#folders.splice(0)) rmSync(value, { recursive: true, force: true });
    if (this.#making.files + this.#making.folders > 0) {
      await new Promise<void>((resolve) => {
        this.#idle = resolve;
      });
    }
  }
}

/** This process's mark in spare names (`<pid>-<mark>-<n>`): the per-process part of its unique tokens. */
const OWN_MARK = ((token: string) => token.slice(0, token.lastIndexOf('-')))(uniqueToken());
const SPARE_NAME = /^(\d+)-([A-Za-z0-9_-]{16})-([0-9a-z]+)\.(tmp|d)$/;

/** True for a spare whose maker is not running any more. */
function leftOverByGoneProcess(name: string): boolean {
  const match = SPARE_NAME.exec(name);
  if (!match) return false;
  const pid = Number(match[1]);
  if (pid === process.pid) return match[2] !== OWN_MARK;
  return !isRunning(pid);
}

function isRunning(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeFileSync(file: SpareFile): void {
  try {
    closeSync(file.fd);
  } catch {
    // already closed
  }
  rmSync(file.path, { force: true });
}

function discardFile(file: SpareFile): void {
  close(file.fd, () => unlink(file.path, () => {}));
}
