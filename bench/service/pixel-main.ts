// Child entry: Pixel's server in its own process, configured only through its environment
// (PIXEL_*, DATABASE_URL, OPENAI_BASE_URL…), exactly as `pixel serve` would be.
import { startServer } from '../../src/server/app.ts';
import { serverConfigFromEnv } from '../../src/server/config.ts';
import { serveChild } from './child.ts';

await serveChild(async () => {
  const server = await startServer(serverConfigFromEnv(process.env));
  return { info: { url: server.url }, close: () => server.close() };
});
