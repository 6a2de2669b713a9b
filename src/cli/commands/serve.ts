import type { Command } from 'commander';
import { startServer } from '../../server/app.ts';
import { serverConfigFromEnv } from '../../server/config.ts';
import { failWith } from '../output.ts';

/** `pixel serve`: the embedded profile by default (PGlite + local folder), production with DATABASE_URL / S3. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the Pixel service (Connect, gRPC, OpenAI-compatible REST, files, health, metrics)')
    .option('--port <port>', 'port (default PIXEL_PORT or 8080; 0 picks a free one)')
    .option('--host <host>', 'interface to bind (default PIXEL_HOST or 127.0.0.1)')
    .option('--data-dir <dir>', 'data folder (default PIXEL_DATA_DIR or ./data)')
    .action(async (flags: { port?: string; host?: string; dataDir?: string }) => {
      try {
        const env = {
          ...process.env,
          ...(flags.port !== undefined && { PIXEL_PORT: flags.port }),
          ...(flags.host !== undefined && { PIXEL_HOST: flags.host }),
          ...(flags.dataDir !== undefined && { PIXEL_DATA_DIR: flags.dataDir }),
        };
        const server = await startServer(serverConfigFromEnv(env), { env });
        process.stderr.write(`pixel: serving on ${server.url} (gRPC on the same port; Ctrl-C to stop)\n`);
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) {
            process.stderr.write(`pixel: ${signal} again, exiting now\n`);
            process.exit(1);
          }
          stopping = true;
          process.stderr.write(`pixel: ${signal} received, finishing in-flight requests…\n`);
          server.close().then(
            () => process.exit(0),
            (error: unknown) => failWith(error, false),
          );
        };
        process.on('SIGTERM', () => stop('SIGTERM'));
        process.on('SIGINT', () => stop('SIGINT'));
      } catch (error) {
        failWith(error, false);
      }
    });
}
