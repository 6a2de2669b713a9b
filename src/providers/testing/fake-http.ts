import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeServer, Fault, RecordedRequest } from './types.ts';

/** Small pieces shared by the `node:http` fake provider servers. */

export interface ParsedRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  raw: Buffer;
  /** Parsed JSON when the body is JSON, else the raw text (or undefined when empty). */
  body: unknown;
}

export async function readRequest(req: IncomingMessage): Promise<ParsedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  let body: unknown;
  if (raw.length > 0) {
    const text = raw.toString('utf8');
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return {
    method: req.method ?? 'GET',
    url: new URL(req.url ?? '/', 'http://127.0.0.1'),
    headers,
    raw,
    body,
  };
}

/** Headers that carry credentials in the APIs the fakes stand in for. */
const CREDENTIAL_HEADERS = ['authorization', 'x-key', 'x-goog-api-key', 'x-api-key', 'x-amz-security-token'];

/**
 * Every credential a request carried, bare, as a provider repeating "the key you provided" would (for the
 * `echo_credential` fault): header values without their scheme word, a Basic authorization decoded to
 * `user:password`, a SigV4 credential's access key id, and a `key` query parameter.
 */
export function credentialsSeen(headers: Record<string, string | string[] | undefined>, url?: URL): string {
  const seen: string[] = [];
  for (const name of CREDENTIAL_HEADERS) {
    const raw = headers[name];
    const value = Array.isArray(raw) ? raw.join(', ') : raw;
    if (!value) continue;
    if (name !== 'authorization') {
      seen.push(value);
      continue;
    }
    const [scheme = '', ...rest] = value.split(' ');
    const credential = rest.join(' ');
    if (/^basic$/i.test(scheme)) seen.push(Buffer.from(credential, 'base64').toString('utf8'));
    else if (scheme === 'AWS4-HMAC-SHA256')
      seen.push(/Credential=([^/]+)/.exec(credential)?.[1] ?? credential);
    else seen.push(credential || scheme);
  }
  const key = url?.searchParams.get('key');
  if (key) seen.push(key);
  return seen.join(', ') || '(none)';
}

export function record(requests: RecordedRequest[], request: ParsedRequest): void {
  requests.push({
    method: request.method,
    path: request.url.pathname + request.url.search,
    headers: request.headers,
    body: request.body,
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export function sendBytes(
  res: ServerResponse,
  status: number,
  bytes: Uint8Array,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': String(bytes.byteLength),
    ...headers,
  });
  res.end(bytes);
}

/** Starts a server on 127.0.0.1 with a free port; `close` also drops kept-alive connections. */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The queue of injected faults: each `take` consumes one use of the oldest fault. */
export class FaultQueue<F extends { kind: string; times: number } = Fault> {
  #faults: Array<{ fault: F; left: number }> = [];

  add(fault: F): void {
    if (fault.times > 0) this.#faults.push({ fault, left: fault.times });
  }

  /** Consumes and returns the next fault, optionally only among the given kinds. */
  take(kinds?: ReadonlyArray<F['kind']>): F | undefined {
    const entry = this.#faults.find((item) => !kinds || kinds.includes(item.fault.kind));
    if (!entry) return undefined;
    entry.left -= 1;
    if (entry.left <= 0) this.#faults.splice(this.#faults.indexOf(entry), 1);
    return entry.fault;
  }

  clear(): void {
    this.#faults = [];
  }
}

type Listening = Awaited<ReturnType<typeof listen>>;

/** What every fake keeps (requests received, job ids cancelled, faults to inject) and its start-up. */
export class FakeState {
  readonly requests: RecordedRequest[] = [];
  readonly cancelled: string[] = [];
  readonly faults = new FaultQueue();

  /**
   * Serves `handle` on 127.0.0.1: each request is read (and recorded, unless `record` is false) first;
   * a handler that throws answers through `onError` (the provider's own 500 body) unless it already answered.
   */
  serve(
    handle: (request: ParsedRequest, res: ServerResponse) => Promise<void>,
    onError: (res: ServerResponse, error: unknown) => void,
    options: { record?: boolean } = {},
  ): Promise<Listening> {
    const run = async (req: IncomingMessage, res: ServerResponse) => {
      const request = await readRequest(req);
      if (options.record !== false) record(this.requests, request);
      await handle(request, res);
    };
    return listen((req, res) => {
      run(req, res).catch((error: unknown) => {
        if (!res.headersSent) onError(res, error);
      });
    });
  }

  /** The FakeServer members over this state; `reset` empties it, then runs `alsoReset`. */
  fake(server: Listening, apiKey: string, alsoReset?: () => void): FakeServer {
    return {
      url: server.url,
      apiKey,
      requests: this.requests,
      cancelled: this.cancelled,
      inject: (fault) => this.faults.add(fault),
      reset: () => {
        this.faults.clear();
        this.requests.length = 0;
        this.cancelled.length = 0;
        alsoReset?.();
      },
      close: server.close,
    };
  }
}

/** Waits, resolving early when the client goes away (so a slow fake never outlives its test). */
export function delay(ms: number, res?: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      res?.off('close', done);
      resolve();
    }
    res?.on('close', done);
  });
}
