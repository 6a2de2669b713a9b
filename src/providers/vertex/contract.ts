import type { ProviderContract } from '../testing/types.ts';
import { createVertexAdapter } from './adapter.ts';
import { startVertexFake } from './fake.ts';

export const contract: ProviderContract = {
  provider: 'vertex',
  modelIds: ['vertex/imagen-4.0-generate-001'],
  async: false,
  // Imagen's :predict response carries no request id (no responseId, no request-id header).
  lacks: ['request_id'],
  startFake: () => startVertexFake({ project: 'pixel-test' }),
  createAdapter: (fake) =>
    createVertexAdapter({
      accessToken: fake.apiKey,
      project: 'pixel-test',
      location: 'us-central1',
      baseURL: fake.url,
    }),
};
