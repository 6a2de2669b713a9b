import { type ChildProcess, fork } from 'node:child_process';

/** A service running in its own process, so it does not share the load driver's event loop. */
export interface ChildService<T> {
  info: T;
  pid: number;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
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
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
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
    return { info, pid: child.pid ?? -1, stop: (graceMs = 10_000) => stopProcess(child, graceMs) };
  } catch (error) {
    await stopProcess(child, 2_000);
    throw error;
  }
}

/** For child entries: report readiness (or the start-up failure) and stop cleanly on SIGTERM. */
export async function serveChild<T>(
  start: () => Promise<{ info: T; close(): Promise<void> }>,
): Promise<void> {
  let running: { info: T; close(): Promise<void> };
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
