import { Agent, request } from 'node:http';

/** One HTTP endpoint under load: the same client code and body shape for every target. */
export interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

export interface LoadResult {
  /** Latency of each successful request, ascending, in ms. */
  latencies: number[];
  seconds: number;
  ok: number;
  failed: number;
  firstFailure?: string;
  /** Response bytes received (successes). */
  bytes: number;
}

const REQUEST_TIMEOUT_MS = 60_000;

/**
 * A keep-alive client (Node's http Agent; `fetch` would add its stream machinery to every 350 KB
 * body). Sockets stay open across cells so connection set-up is never measured.
 */
export function keepAliveAgent(maxSockets = 64): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, keepAliveMsecs: 30_000 });
}

/** One POST; resolves with the status and the whole body. */
export function post(agent: Agent, target: Target): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      target.url,
      {
        method: 'POST',
        agent,
        headers: {
          ...target.headers,
          'content-type': 'application/json',
          'content-length': target.body.length,
        },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(target.body);
  });
}

/** Sends exactly `count` requests through `concurrency` workers; failures are counted, not retried. */
export async function runLoad(
  agent: Agent,
  target: Target,
  count: number,
  concurrency: number,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let failed = 0;
  let bytes = 0;
  let firstFailure: string | undefined;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        next++;
        const t = performance.now();
        try {
          const { status, body } = await post(agent, target);
          if (status === 200) {
            latencies.push(performance.now() - t);
            bytes += body.length;
            continue;
          }
          firstFailure ??= `HTTP ${status}: ${body.toString('utf8', 0, 300)}`;
        } catch (error) {
          firstFailure ??= error instanceof Error ? error.message : String(error);
        }
        failed++;
      }
    }),
  );
  return {
    latencies: latencies.sort((a, b) => a - b),
    seconds: (performance.now() - started) / 1000,
    ok: latencies.length,
    failed,
    firstFailure,
    bytes,
  };
}

/** Concatenates the results of several rounds of the same cell. */
export function merge(results: LoadResult[]): LoadResult {
  return {
    latencies: results.flatMap((r) => r.latencies).sort((a, b) => a - b),
    seconds: results.reduce((s, r) => s + r.seconds, 0),
    ok: results.reduce((s, r) => s + r.ok, 0),
    failed: results.reduce((s, r) => s + r.failed, 0),
    firstFailure: results.find((r) => r.firstFailure !== undefined)?.firstFailure,
    bytes: results.reduce((s, r) => s + r.bytes, 0),
  };
}
