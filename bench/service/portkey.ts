import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { exited } from './child.ts';
import { FAKE_PROVIDER_KEY } from './fake-openai.ts';

export const PORTKEY_PACKAGE = '@portkey-ai/gateway@1.15.2';

export interface Portkey {
  url: string;
  /** Headers that make it forward to the fake as an OpenAI upstream. */
  headers: Record<string, string>;
  pid: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.status < 500;
  } catch {
    return false;
  }
}

/** Stops the whole process group (npx, its shell and the gateway) that `spawn(detached)` created. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  if (!(await exited(child, 5_000))) {
    signal('SIGKILL');
    await exited(child, 5_000);
  }
}

/**
 * Starts the Portkey OSS gateway from npm with `npx --yes` (the package is fetched on first use), on
 * this Node (first on its PATH), bound to 127.0.0.1 by a preloaded listen() patch, and waits until it
 * answers. Throws with the reason when it cannot start (no network for npx, a crash…).
 */
export async function startPortkey(upstreamBaseUrl: string, startMs = 120_000): Promise<Portkey> {
  const port = await freePort();
  const preload = new URL('./loopback.ts', import.meta.url).href;
  const child = spawn('npx', ['--yes', PORTKEY_PACKAGE, `--port=${port}`, '--headless'], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      NODE_OPTIONS: `--import=${preload}`,
      NODE_ENV: 'production',
      npm_config_update_notifier: 'false',
    },
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => {
    stderr = (stderr + c).slice(-2_000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + startMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `npx ${PORTKEY_PACKAGE} exited (${child.exitCode ?? child.signalCode}): ${tail(stderr)}`,
      );
    }
    if (await answers(`${url}/`)) {
      return {
        url,
        pid: child.pid ?? -1,
        headers: {
          'x-portkey-provider': 'openai',
          'x-portkey-custom-host': upstreamBaseUrl,
          authorization: `Bearer ${FAKE_PROVIDER_KEY}`,
        },
        stop: () => stopGroup(child),
      };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stopGroup(child);
  throw new Error(`npx ${PORTKEY_PACKAGE} did not answer within ${startMs} ms: ${tail(stderr)}`);
}

function tail(text: string): string {
  return (
    text
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.includes('Unknown user config'))
      .slice(-3)
      .join(' / ') || 'no output'
  );
}
