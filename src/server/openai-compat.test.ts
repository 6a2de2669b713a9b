import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { GenerateAndStoreResult, StoredImage } from './image-service.ts';
import { openAIB64Body, openAIResponse } from './openai-compat.ts';

function result(count: number): GenerateAndStoreResult {
  const images = Array.from(
    { length: count },
    (_, i) =>
      ({
        id: `img_${i}`,
        mediaType: 'image/png',
        width: 1024,
        height: 1024,
        seed: i,
        createdAt: new Date(1_767_225_600_000),
      }) as unknown as StoredImage,
  );
  return {
    images,
    // A prompt-like string with quotes, unicode and a marker-looking text must survive untouched.
    report: [
      { param: 'prompt', status: 'native', detail: 'ribeye "prime" – été pixel-b64-slot-x-0' },
    ] as never,
    model: 'openai/gpt-image-1.5',
    route: 'openai/gpt-image-1.5',
    costEstimateUsd: 0.04,
    notes: ['note'],
    replayed: false,
  };
}

describe('openAIB64Body', () => {
  it('is the JSON of openAIResponse with each image as base64, byte for byte', () => {
    for (const count of [1, 3]) {
      const images = Array.from({ length: count }, (_, i) => randomBytes(100_000 + i * 7));
      const r = result(count);
      const body = openAIB64Body(r, images);
      const expected = JSON.stringify(
        openAIResponse(
          r,
          images.map((b) => ({ b64_json: b.toString('base64') })),
        ),
      );
      expect(body.toString('utf8')).toBe(expected);
    }
  });
});
