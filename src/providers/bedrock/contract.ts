import type { ProviderContract } from '../testing/types.ts';
import { createBedrockAdapter } from './adapter.ts';
import { type BedrockFake, startBedrockFake } from './fake.ts';

export const contract: ProviderContract = {
  provider: 'bedrock',
  modelIds: [
    'bedrock/amazon.titan-image-generator-v2:0',
    'bedrock/amazon.nova-canvas-v1:0',
    'bedrock/stability.sd3-5-large-v1:0',
  ],
  async: false,
  lacks: ['retry_hint'],
  startFake: () => startBedrockFake(),
  createAdapter: (fake) => {
    const bedrock = fake as Partial<BedrockFake>;
    return createBedrockAdapter({
      baseURL: fake.url,
      region: bedrock.region ?? 'us-east-1',
      credentials: { accessKeyId: fake.apiKey, secretAccessKey: bedrock.secretAccessKey ?? '' },
    });
  },
};
