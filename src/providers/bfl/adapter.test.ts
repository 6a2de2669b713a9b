import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../models/schema.ts';
import { failure, serveFakeForSuite } from '../testing/suite.ts';
import type { ProviderCall, ProviderProgress } from '../types.ts';
import { createBflAdapter } from './adapter.ts';
import { type BflFake, startBflFake } from './fake.ts';
import { provider } from './index.ts';

// The adapter reads only these fields of a catalogue entry.
function model(providerModelId: string): ModelEntry {
  return { id: `bfl/${providerModelId}`, provider: 'bfl', providerModelId, transport: 'bfl' } as ModelEntry;
}

function call(id: string, body: Record<string, unknown>, extra: Partial<ProviderCall> = {}): ProviderCall {
  return { model: model(id), body, count: 1, ...extra };
}

let fake: BflFake;
serveFakeForSuite(async () => (fake = await startBflFake()));

const adapter = (extra: { maxWaitMs?: number } = {}) =>
  createBflAdapter({ apiKey: fake.apiKey, baseURL: fake.url, pollIntervalMs: 5, ...extra });

describe('bfl adapter', () => {
  it('submits, polls the returned polling_url through Pending, and fetches the sample without the key', async () => {
    const progress: ProviderProgress[] = [];
    const body = {
      prompt: 'a pear',
      width: 1024,
      height: 768,
      steps: 28,
      guidance: 3,
      seed: 42,
      output_format: 'png',
    };
    const result = await adapter().generate(call('flux-dev', body, { onProgress: (p) => progress.push(p) }));
    expect(result.images).toHaveLength(1);
    expect(result.images[0]).toMatchObject({ mediaType: 'image/png', width: 1024, height: 768, seed: 42 });
    expect(result.costUsd).toBeCloseTo(0.025);
    expect(result.usage).toEqual({ credits: 2.5 });

    const [submit, ...rest] = fake.requests;
    expect(submit).toMatchObject({ method: 'POST', path: '/v1/flux-dev', body });
    expect(submit!.headers['x-key']).toBe(fake.apiKey);
    const polls = rest.filter((r) => r.path.startsWith('/v1/get_result'));
    expect(polls).toHaveLength(3);
    expect(polls[0]!.path).toBe(`/v1/get_result?id=${result.requestId}`);
    const sample = rest.find((r) => r.path.startsWith('/samples/'))!;
    expect(sample.headers['x-key']).toBeUndefined();

    expect(progress.map((p) => p.status)).toEqual(['Pending', 'Pending', 'Ready']);
    const fractions = progress.map((p) => p.fraction ?? -1);
    expect(fractions[0]).toBeLessThan(fractions[1]!);
    expect(fractions[2]).toBe(1);
  });

  it('returns the seed BFL picked, and sizes by aspect ratio on ultra', async () => {
    const result = await adapter().generate(call('flux-pro-1.1-ultra', { prompt: 'x', aspect_ratio: '1:1' }));
    expect(result.images[0]).toMatchObject({ width: 1024, height: 1024, mediaType: 'image/jpeg' });
    expect(result.images[0]!.seed).toEqual(expect.any(Number));
  });

  it('maps Request Moderated and Content Moderated to moderation', async () => {
    fake.inject({ kind: 'moderation', times: 1 });
    const request = await failure(adapter().generate(call('flux-dev', { prompt: 'x' })));
    expect(request).toMatchObject({
      code: 'permission_denied',
      reason: 'content_moderated',
      retryable: false,
    });
    expect(request.message).toContain('Request Moderated');
    const content = await failure(adapter().generate(call('flux-dev', { prompt: 'nsfw-test poster' })));
    expect(content.reason).toBe('content_moderated');
    expect(content.message).toContain('Content Moderated');
    expect(content.message).toContain('Derivative Works Filter');
  });

  it('maps Error to unavailable with the details', async () => {
    fake.failNextJob('GPU worker crashed');
    const error = await failure(adapter().generate(call('flux-dev', { prompt: 'x' })));
    expect(error).toMatchObject({ code: 'unavailable', retryable: true });
    expect(error.message).toContain('GPU worker crashed');
  });

  it('tolerates a few "Task not found" answers, then reports the task lost', async () => {
    fake.loseNextJob();
    const error = await failure(adapter().generate(call('flux-dev', { prompt: 'x' })));
    expect(error).toMatchObject({ code: 'unavailable', reason: 'task_not_found', retryable: true });
    expect(fake.requests.filter((r) => r.path.startsWith('/v1/get_result'))).toHaveLength(4);
  });

  it('surfaces FastAPI 422 details for unknown and out-of-range fields', async () => {
    const extra = await failure(adapter().generate(call('flux-pro-1.1', { prompt: 'x', steps: 20 })));
    expect(extra).toMatchObject({ code: 'invalid_argument', providerStatus: 422 });
    expect(extra.message).toContain('steps: Extra inputs are not permitted');
    const range = await failure(adapter().generate(call('flux-dev', { prompt: 'x', width: 1000 })));
    expect(range.message).toContain('width');
  });

  it('classifies 429 with its wait, 5xx, and a bad key', async () => {
    fake.inject({ kind: 'rate_limit', times: 1, retryAfterMs: 50 });
    const limited = await failure(adapter().generate(call('flux-dev', { prompt: 'x' })));
    expect(limited).toMatchObject({ code: 'resource_exhausted', reason: 'rate_limited', retryAfterMs: 50 });
    expect(limited.message).toContain('active tasks');
    fake.inject({ kind: 'server_error', times: 1, status: 503 });
    expect((await failure(adapter().generate(call('flux-dev', { prompt: 'x' })))).code).toBe('unavailable');
    const bad = createBflAdapter({ apiKey: 'bfl-wrong-secret-key', baseURL: fake.url });
    const auth = await failure(bad.generate(call('flux-dev', { prompt: 'x' })));
    expect(auth).toMatchObject({ code: 'permission_denied', reason: 'auth', providerStatus: 403 });
    expect(JSON.stringify(auth.toJSON())).not.toContain('bfl-wrong-secret-key');
  });

  it('turns malformed answers into malformed_response errors', async () => {
    for (const variant of ['missing_fields', 'not_image', 'wrong_content_type', 'empty_list'] as const) {
      fake.inject({ kind: 'malformed', times: 1, variant });
      const error = await failure(adapter().generate(call('flux-dev', { prompt: 'x' })));
      expect(error.reason, variant).toBe('malformed_response');
    }
  });

  it('stops polling on abort (no cancel endpoint exists) and reports cancelled or deadline', async () => {
    fake.inject({ kind: 'stuck', times: 2 });
    const controller = new AbortController();
    const pending = adapter().generate(
      call('flux-dev', { prompt: 'x' }, { signal: controller.signal, onProgress: () => controller.abort() }),
    );
    expect((await failure(pending)).code).toBe('cancelled');
    const seen = fake.requests.length;
    expect(fake.requests.every((r) => r.method === 'POST' || r.path.startsWith('/v1/get_result'))).toBe(true);

    const timeout = await failure(
      adapter().generate(call('flux-dev', { prompt: 'x' }, { signal: AbortSignal.timeout(40) })),
    );
    expect(timeout.code).toBe('deadline_exceeded');
    expect(fake.requests.length).toBeGreaterThan(seen);
    expect(fake.cancelled).toEqual([]);
  });

  it('gives up after maxWaitMs of polling', async () => {
    fake.inject({ kind: 'stuck', times: 1 });
    const error = await failure(adapter({ maxWaitMs: 20 }).generate(call('flux-dev', { prompt: 'x' })));
    expect(error).toMatchObject({ code: 'deadline_exceeded', reason: 'timeout' });
  });

  it('provider module reads BFL_API_KEY and BFL_BASE_URL', () => {
    expect(provider.fromEnv({})).toBeUndefined();
    expect(provider.fromEnv({ BFL_API_KEY: 'k' })?.name).toBe('bfl');
    expect(provider.env.map((e) => e.name)).toEqual(['BFL_API_KEY', 'BFL_BASE_URL']);
  });
});
