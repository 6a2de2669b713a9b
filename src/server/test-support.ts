import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type RunningServer, type ServerDeps, startServer } from './app.ts';
import { serverConfigFromEnv } from './config.ts';

export interface TestServer {
  server: RunningServer;
  url: string;
  dataDir: string;
  /** Every JSON log line the server wrote. */
  logs: string[];
  /** Operator notices (the bootstrap key line). */
  notices: string[];
  /** Restarts on the same data folder (a new process would see exactly this). */
  restart(): Promise<void>;
  /** Closes the server and deletes the data folder. */
  stop(): Promise<void>;
}

/** A real server on 127.0.0.1, port 0, with a fresh PGlite data folder and a local blob store. */
export async function startTestServer(
  options: { env?: Record<string, string>; deps?: ServerDeps; dataDir?: string } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'pixel-server-'));
  const logs: string[] = [];
  const notices: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const env = {
    PIXEL_PORT: '0',
    PIXEL_HOST: '127.0.0.1',
    PIXEL_DATA_DIR: dataDir,
    PIXEL_SWEEP_INTERVAL_MS: '0',
    PIXEL_SHUTDOWN_TIMEOUT_MS: '5000',
    ...options.env,
  };
  const start = () =>
    startServer(serverConfigFromEnv(env), {
      env,
      logStream,
      notice: (line) => notices.push(line),
      ...options.deps,
    });
  const handle: TestServer = {
    server: await start(),
    url: '',
    dataDir,
    logs,
    notices,
    async restart() {
      await handle.server.close();
      handle.server = await start();
      handle.url = handle.server.url;
    },
    async stop() {
      await handle.server.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  handle.url = handle.server.url;
  return handle;
}
