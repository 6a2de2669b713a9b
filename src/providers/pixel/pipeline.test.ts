import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { deliver } from '../../postprocess/deliver.ts';
import { translate } from '../../translate/translate.ts';
import { createPixelAdapter } from './adapter.ts';

// The body translation builds for pixel/sketch (transport `local`) is what this adapter reads.
describe('pixel/sketch through translation, the adapter and delivery', () => {
  const requests = [
    { prompt: 'three lemons on marble', width: 333, height: 777, seed: 0, n: 3 },
    {
      prompt: 'a cereal box and a bottle of milk',
      negativePrompt: 'milk',
      aspectRatio: '16:9',
      width: 320,
      style: 'studio-product',
      format: 'webp',
      background: 'transparent',
      seed: 4294967295,
      n: 2,
    },
  ];
  for (const request of requests) {
    it(`generates ${request.prompt}`, async () => {
      const translation = translate({ model: 'pixel/sketch', ...request });
      const adapter = createPixelAdapter();
      const images = [];
      for (const call of translation.calls) {
        const result = await adapter.generate({
          model: translation.model,
          body: call.body,
          count: call.count,
        });
        for (const image of result.images) images.push(await deliver(image, translation.delivery));
      }
      expect(images).toHaveLength(request.n);
      for (const image of images) {
        const meta = await sharp(image.bytes).metadata();
        expect(meta.format).toBe(request.format ?? 'png');
        expect(meta.width).toBe(request.width);
        if (request.height) expect(meta.height).toBe(request.height);
        expect(meta.hasAlpha).toBe(request.background === 'transparent');
      }
    });
  }
});
