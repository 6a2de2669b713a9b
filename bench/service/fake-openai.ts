import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { benchPng } from './png.ts';

/** The key the fake is called with: directly, through Pixel and through Portkey (it accepts any). */
export const FAKE_PROVIDER_KEY = 'sk-bench-not-a-real-key';

export interface FakeOpenAI {
  /** Base URL including `/v1`, as OPENAI_BASE_URL takes it. */
  baseUrl: string;
  /** Bytes of each PNG it serves. */
  pngBytes: number;
  close(): Promise<void>;
}

/** How many distinct PNGs the fake rotates through (distinct bytes, like real generations). */
const VARIANTS = 4;

/**
 * A minimal OpenAI Images API: `POST /v1/images/generations` answers a precomputed `b64_json` body
 * (one of a few real 1024×1024 PNGs of ~256 KB), so the fake costs next to nothing per request and is
 * never the bottleneck. The request body is drained, not parsed. Anything else is a 404.
 */
export async function startFakeOpenAI(targetBytes = 256 * 1024): Promise<FakeOpenAI> {
  const pngs = await Promise.all(Array.from({ length: VARIANTS }, (_, i) => benchPng(targetBytes, 42 + i)));
  const bodies = pngs.map((png) =>
    Buffer.from(
      JSON.stringify({
        created: 1_767_225_600,
        background: 'opaque',
        output_format: 'png',
        quality: 'medium',
        size: '1024x1024',
        data: [{ b64_json: png.toString('base64') }],
        usage: { input_tokens: 12, output_tokens: 1056, total_tokens: 1068 },
      }),
    ),
  );
  let served = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/images/generations') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"not found","type":"invalid_request_error"}}');
        return;
      }
      const body = bodies[served++ % bodies.length]!;
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': body.length,
        'x-request-id': `req_fake_${served}`,
      });
      res.end(body);
    });
  });
  // Many keep-alive connections from the gateways under test: no idle cut-off mid-run.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    pngBytes: Math.round(pngs.reduce((s, p) => s + p.length, 0) / pngs.length),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
