import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * For tests: a pass-through in front of provider fakes that stands in for what trained weights do. The
 * fakes draw every prompt the same way whatever model is named, so a trained LoRA or version would look
 * just like its base; `rewrite` lets a test say what the trained model draws differently (e.g. the
 * dataset's colours added to the prompt of calls that name the trained version or LoRA). Requests go to the
 * fake `route` picks, by method and path, and the fake's answer comes back unchanged (status, headers,
 * body): the wire format stays the fake's, so the real API's.
 */
export interface TrainedLookProxy {
  url: string;
  /** Calls whose body `rewrite` changed (the trained model's draws). */
  rewritten: number;
  close(): Promise<void>;
}

export async function startTrainedLookProxy(options: {
  /** The origin (scheme://host:port) of the fake that answers this call. */
  route: (method: string, path: string) => string;
  /** A JSON body as the trained model would take it, or undefined to leave it as sent. */
  rewrite?: (
    method: string,
    path: string,
    body: Record<string, unknown>,
  ) => Record<string, unknown> | undefined;
}): Promise<TrainedLookProxy> {
  const state = { rewritten: 0 };
  const read = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const server = createServer((req, res) => {
    void (async () => {
      const method = req.method ?? 'GET';
      const url = new URL(req.url ?? '/', 'http://proxy');
      let body: Buffer | undefined = method === 'GET' || method === 'HEAD' ? undefined : await read(req);
      if (body && String(req.headers['content-type'] ?? '').includes('application/json') && options.rewrite) {
        const changed = options.rewrite(method, url.pathname, JSON.parse(body.toString('utf8')));
        if (changed) {
          body = Buffer.from(JSON.stringify(changed));
          state.rewritten++;
        }
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (name === 'host' || name === 'content-length' || name === 'connection' || value === undefined)
          continue;
        headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const answer = await fetch(`${options.route(method, url.pathname)}${url.pathname}${url.search}`, {
        method,
        headers,
        ...(body && { body: new Uint8Array(body) }),
      });
      const out = Buffer.from(await answer.arrayBuffer());
      const kept: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection')
          kept[name] = value;
      });
      res.writeHead(answer.status, kept);
      res.end(out);
    })().catch((error: unknown) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get rewritten() {
      return state.rewritten;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
