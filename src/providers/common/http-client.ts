// node:http(s) rather than fetch for the hot JSON call of an adapter: a 350 KB image response through
// fetch's web streams and TextDecoder cost ~2.5 ms a call against ~1 ms here (bench/service.bench.ts).
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface RawResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

/** Largest response body read into memory (a provider answering more is broken or hostile). */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

// One keep-alive pool per protocol for the process, like fetch's global dispatcher.
const agents = {
  http: new HttpAgent({ keepAlive: true, scheduling: 'lifo' }),
  https: new HttpsAgent({ keepAlive: true, scheduling: 'lifo' }),
};

/**
 * POSTs `body` and reads the whole response. Rejects like fetch does: with the signal's reason when it
 * aborts, with the socket error otherwise; any HTTP status resolves. Redirects are not followed.
 */
export function postRaw(
  url: string,
  init: { headers: Record<string, string>; body: string | Uint8Array; signal?: AbortSignal },
): Promise<RawResponse> {
  const { signal } = init;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const body = typeof init.body === 'string' ? Buffer.from(init.body, 'utf8') : init.body;
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(
      target,
      {
        method: 'POST',
        agent: secure ? agents.https : agents.http,
        headers: { ...init.headers, 'content-length': String(body.byteLength) },
      },
      (res) => {
        readBody(res).then(
          (bytes) => resolve({ status: res.statusCode ?? 0, headers: toHeaders(res), body: bytes }),
          reject,
        );
      },
    );
    const onAbort = () =>
      req.destroy(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('close', () => signal?.removeEventListener('abort', onAbort));
    req.once('error', reject);
    req.end(body);
  });
}

function readBody(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) {
        res.destroy(new Error(`response larger than ${MAX_RESPONSE_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    res.once('error', reject);
    // A socket torn down mid-body (abort, reset) may close the response without an error event.
    res.once('close', () => {
      if (!res.complete) reject(new Error('the response was cut off'));
    });
  });
}

function toHeaders(res: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  return headers;
}
