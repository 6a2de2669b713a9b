import { describe, expect, it } from 'vitest';
import type { ProviderAdapter } from '../providers/types.ts';
import { startTestServer } from './test-support.ts';

describe('draining at shutdown', () => {
  // Starting a server takes seconds on a loaded machine; the drain itself is bounded by PIXEL_SHUTDOWN_TIMEOUT_MS.
  it('keeps accepting connections: /readyz answers 503, new work 503, health 200, until in-flight work ends', {
    timeout: 120_000,
  }, async () => {
    let started = 0;
    const hanging: ProviderAdapter = {
      name: 'openai',
      generate: (call) =>
        new Promise((_resolve, reject) => {
          started++;
          call.signal?.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    };
    const t = await startTestServer({
      env: { OPENAI_API_KEY: 'sk-test', PIXEL_SHUTDOWN_TIMEOUT_MS: '1500' },
      deps: { adapters: new Map([['openai', hanging]]) },
    });
    const inflight = fetch(`${t.url}/pixel.v1.ImageService/Generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-image-1.5', prompt: 'a fig', width: 1024, height: 1024 }),
    }).then(
      (r) => r.status,
      () => 0,
    );
    for (let i = 0; i < 200 && started === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(started).toBe(1);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);

    const closed = t.server.close();
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { status: string }).status).toBe('shutting down');
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const refused = await fetch(`${t.url}/v1/models`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('unavailable');

    await closed;
    await inflight;
    await expect(fetch(`${t.url}/healthz`)).rejects.toThrow();
    await t.stop();
  });
});
