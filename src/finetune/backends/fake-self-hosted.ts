import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake GPU box speaking the self-hosted training contract (see self-hosted.ts): takes the multipart
 * `config` + `dataset` zip, runs a training one status read at a time (queued → running with progress →
 * succeeded | failed), cancels, and refuses a wrong bearer token with 401 { error }.
 */
export interface SelfHostedFake {
  url: string;
  trainings: Map<string, SelfHostedFakeTraining>;
  failNext(error: string): void;
  close(): Promise<void>;
}

export interface SelfHostedFakeTraining {
  id: string;
  config: Record<string, unknown>;
  dataset: Uint8Array;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  reads: number;
  failWith?: string;
}

const RUNNING_READS = 4;

const send = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parts(body: Buffer, contentType: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) return out;
  const marker = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  let at = body.indexOf(marker);
  while (at !== -1) {
    const next = body.indexOf(marker, at + marker.length);
    if (next === -1) break;
    const part = body.subarray(at + marker.length, next);
    const split = part.indexOf('\r\n\r\n');
    const name = /name="([^"]+)"/.exec(part.subarray(0, split).toString('utf8'))?.[1];
    if (name) out.set(name, part.subarray(split + 4, part.length - 2));
    at = next;
  }
  return out;
}

export async function startSelfHostedFake(options: { token?: string } = {}): Promise<SelfHostedFake> {
  const trainings = new Map<string, SelfHostedFakeTraining>();
  let failNext: string | undefined;
  const view = (t: SelfHostedFakeTraining) => ({
    id: t.id,
    status: t.status,
    ...(t.status === 'running' && { progress: t.reads / RUNNING_READS }),
    ...(t.status === 'failed' && { error: t.failWith }),
    ...(t.status === 'succeeded' && {
      result: {
        lora_name: `${String(t.config.name)}-${t.id.slice(0, 6)}`,
        lora_url: `http://gpu-box/loras/${t.id}.safetensors`,
      },
    }),
  });
  const server = createServer((req, res) => {
    void (async () => {
      if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
        return send(res, 401, { error: 'missing or wrong bearer token' });
      }
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.method === 'POST' && path === '/trainings') {
        const form = parts(await readBody(req), String(req.headers['content-type'] ?? ''));
        const config = form.get('config');
        const dataset = form.get('dataset');
        if (!config || !dataset) return send(res, 400, { error: 'config and dataset parts are required' });
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(config.toString('utf8')) as Record<string, unknown>;
        } catch {
          return send(res, 400, { error: 'config is not JSON' });
        }
        const training: SelfHostedFakeTraining = {
          id: randomBytes(6).toString('hex'),
          config: parsed,
          dataset: new Uint8Array(dataset),
          status: 'queued',
          reads: 0,
          ...(failNext !== undefined && { failWith: failNext }),
        };
        failNext = undefined;
        trainings.set(training.id, training);
        return send(res, 201, view(training));
      }
      const m = /^\/trainings\/([^/]+)(\/cancel)?$/.exec(path);
      const t = m ? trainings.get(m[1]!) : undefined;
      if (!m || !t) return send(res, 404, { error: 'no such training' });
      if (req.method === 'POST' && m[2]) {
        if (t.status === 'queued' || t.status === 'running') t.status = 'cancelled';
        return send(res, 200, view(t));
      }
      if (req.method === 'GET' && !m[2]) {
        if (t.status === 'queued') t.status = 'running';
        else if (t.status === 'running' && ++t.reads >= RUNNING_READS)
          t.status = t.failWith ? 'failed' : 'succeeded';
        return send(res, 200, view(t));
      }
      return send(res, 405, { error: 'method not allowed' });
    })().catch((error: unknown) => send(res, 500, { error: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    trainings,
    failNext: (error) => {
      failNext = error;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
