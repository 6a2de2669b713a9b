import { execFile } from 'node:child_process';

const MAIN = new URL('./main.ts', import.meta.url).pathname;

/** The environment without provider keys or Pixel settings: the CLI falls back to pixel/sketch. */
export const KEYLESS_ENV: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) =>
      !/^(OPENAI|STABILITY|REPLICATE|FAL|BFL|GOOGLE|GEMINI|AWS|A1111|COMFYUI|PIXEL)_|^DATABASE_URL$/.test(k),
  ),
);

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Killed at the deadline: the command did its work (or not) but never exited by itself. */
  timedOut: boolean;
  ms: number;
}

/** Runs `pixel …` in a child process; one that has not exited by `timeoutMs` is killed and marked. */
export function runCli(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 90_000): Promise<CliRun> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { env, maxBuffer: 32 * 1024 * 1024, timeout: timeoutMs, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const timedOut = error !== null && (error as { killed?: boolean }).killed === true;
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, timedOut, ms: performance.now() - started });
      },
    );
  });
}
