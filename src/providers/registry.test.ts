import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelEntry } from '../models/schema.ts';
import { startOpenAIFake } from './openai/fake.ts';
import { createAdapters, missingVariable, PROVIDER_MODULES } from './registry.ts';
import type { FakeServer } from './testing/types.ts';

let fake: FakeServer;
beforeAll(async () => {
  fake = await startOpenAIFake();
});
afterAll(() => fake.close());

describe('createAdapters', () => {
  it('builds only the configured providers, each wrapped with its environment policy', async () => {
    const adapters = createAdapters({
      OPENAI_API_KEY: fake.apiKey,
      OPENAI_BASE_URL: fake.url,
      PIXEL_OPENAI_CONCURRENCY: '2',
      PIXEL_OPENAI_MAX_ATTEMPTS: '4',
    });
    const openai = adapters.get('openai')!;
    expect(openai.policy).toMatchObject({ concurrency: 2, maxAttempts: 4 });
    expect(adapters.has('stability')).toBe(false);
    expect(adapters.has('pixel')).toBe(true); // offline model needs nothing

    fake.inject({ kind: 'server_error', times: 1, status: 503 });
    const model = { id: 'openai/gpt-image-1.5', providerModelId: 'gpt-image-1.5' } as ModelEntry;
    const result = await openai.generate({ model, body: { model: 'gpt-image-1.5', prompt: 'x' }, count: 1 });
    expect(result.images).toHaveLength(1);
    expect(fake.requests).toHaveLength(2); // the wrapper retried the 503
  });

  it('names the variable that turns a provider on', () => {
    const openai = PROVIDER_MODULES.find((m) => m.name === 'openai')!;
    expect(missingVariable(openai, {})).toBe('OPENAI_API_KEY');
    expect(new Set(PROVIDER_MODULES.map((m) => m.name)).size).toBe(PROVIDER_MODULES.length);
  });
});
