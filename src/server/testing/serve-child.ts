// Child entry for the multi-process tests: Pixel's server configured only through its environment,
// exactly as `pixel serve` would be. Prints `ready <url>` once it listens.
import { startServer } from '../app.ts';
import { serverConfigFromEnv } from '../config.ts';

const server = await startServer(serverConfigFromEnv(process.env), { notice: () => {} });
process.stdout.write(`ready ${server.url}\n`);
const stop = () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
