import { type ChildProcess, fork } from 'node:child_process';
import { constants, PerformanceObserver } from 'node:perf_hooks';

/** A service running in its own process, so it does not share the load driver's event loop. */
export interface ChildService<T> {
  info: T;
  pid: number;
  /** The child's own CPU time (all threads) and garbage collections so far, asked over IPC. */
  usage(): Promise<ChildUsage>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Cumulative counters of a child process, since it started. */
export interface ChildUsage {
  /** User + system CPU of the whole process (every thread, libuv pool included), in ms. */
  cpuMs: number;
  /** Garbage collections (perf_hooks 'gc' entries) and their total pause, in ms. */
  gcCount: number;
  gcMs: number;
  /** Of which full mark-compacts (major GCs). */
  majorGcCount: number;
}

/** The difference of two usage readings (after − before). */
export function usageDelta(after: ChildUsage, before: ChildUsage): ChildUsage {
  return {
    cpuMs: after.cpuMs - before.cpuMs,
    gcCount: after.gcCount - before.gcCount,
    gcMs: after.gcMs - before.gcMs,
    majorGcCount: after.majorGcCount - before.majorGcCount,
  };
}

/** The message a child entry sends once it listens: `{ ready: info }`, or `{ error: message }`. */
export type ReadyMessage<T> = { ready: T } | { error: string };

/** Waits for a process to exit, up to `ms`; true when it did. */
export function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (!(await exited(child, graceMs))) {
    child.kill('SIGKILL');
    await exited(child, 5_000);
  }
}

/**
 * Forks a TypeScript entry with this Node (type stripping) and waits for its ready message. Its stdout
 * is discarded (a server's request logs would otherwise be the bench's output); stderr is kept for
 * the error message when it fails to start.
 */
export async function forkService<T>(
  entry: string | URL,
  options: { env?: Record<string, string | undefined>; execArgv?: string[]; startMs?: number } = {},
): Promise<ChildService<T>> {
  const child = fork(entry, [], {
    env: { ...process.env, ...options.env },
    execArgv: options.execArgv ?? [],
    stdio: ['ignore', process.env.PIXEL_BENCH_CHILD_STDOUT ? 'inherit' : 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  const startMs = options.startMs ?? 60_000;
  try {
    const info = await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`did not start within ${startMs} ms`)), startMs);
      child.once('message', (message: ReadyMessage<T>) => {
        clearTimeout(timer);
        if ('ready' in message) resolve(message.ready);
        else reject(new Error(message.error));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`exited (${signal ?? code}) before it was ready: ${firstError(stderr)}`));
      });
    });
    return {
      info,
      pid: child.pid ?? -1,
      usage: () => askUsage(child),
      stop: (graceMs = 10_000) => stopProcess(child, graceMs),
    };
  } catch (error) {
    await stopProcess(child, 2_000);
    throw error;
  }
}

let usageAsks = 0;

/** Asks a child for its usage counters (answered by serveChild's IPC handler). */
function askUsage(child: ChildProcess): Promise<ChildUsage> {
  const id = ++usageAsks;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error('the child did not report its usage within 5 s'));
    }, 5_000);
    const onMessage = (message: { usage?: ChildUsage; id?: number }) => {
      if (message?.id !== id || !message.usage) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message.usage);
    };
    child.on('message', onMessage);
    child.send({ askUsage: id });
  });
}

/** Counts this process's GCs from perf_hooks, and answers `{ askUsage }` messages with its usage. */
function answerUsage(): void {
  const gc = { count: 0, ms: 0, major: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count++;
      gc.ms += entry.duration;
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  process.on('message', (message: { askUsage?: number }) => {
    if (typeof message?.askUsage !== 'number') return;
    const cpu = process.cpuUsage();
    const usage: ChildUsage = {
      cpuMs: (cpu.user + cpu.system) / 1000,
      gcCount: gc.count,
      gcMs: gc.ms,
      majorGcCount: gc.major,
    };
    process.send?.({ id: message.askUsage, usage });
  });
}

/** For child entries: report readiness (or the start-up failure) and stop cleanly on SIGTERM. */
export async function serveChild<T>(
  start: () => Promise<{ info: T; close(): Promise<void> }>,
): Promise<void> {
  let running: { info: T; close(): Promise<void> };
  answerUsage();
  try {
    running = await start();
  } catch (error) {
    process.send?.({
      error: error instanceof Error ? error.message : String(error),
    } satisfies ReadyMessage<T>);
    process.exit(1);
  }
  const stop = () => {
    running.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  // The parent died without stopping us: do not linger.
  process.once('disconnect', stop);
  process.send?.({ ready: running.info } satisfies ReadyMessage<T>);
}

/** The line of a crash report that says what went wrong (not the stack frames under it). */
function firstError(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim());
  const line = lines.find((l) => /^\w*(Error|Exception)\b|^error:/i.test(l)) ?? lines.filter(Boolean).at(-1);
  return (line ?? 'no output').slice(0, 300);
}
