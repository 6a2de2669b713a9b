import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../models/catalog.ts';
import { PixelError } from '../../protocol/errors.ts';
import {
  ALGORITHMIC_MEDIA,
  type DigitalSourceType,
  embedLineage,
  readLineage,
  TRAINED_ALGORITHMIC_MEDIA,
} from './index.ts';

const record = { id: 'img_01JZ8Q7T4W2V6N3K5M9P0R1S2T', model: 'pixel/sketch', team: 'local' };

const image = (format: 'png' | 'jpeg' | 'webp') =>
  sharp({ create: { width: 16, height: 16, channels: 3, background: '#c33' } })
    [format]()
    .toBuffer();

describe('IPTC digital source type', () => {
  it.each(['png', 'jpeg', 'webp'] as const)(
    '%s: algorithmicMedia when asked, trainedAlgorithmicMedia by default',
    async (format) => {
      const bytes = new Uint8Array(await image(format));
      const mediaType = `image/${format}`;
      const plain = readLineage(
        embedLineage(bytes, mediaType, record, { digitalSourceType: 'algorithmicMedia' }),
        mediaType,
      );
      expect(plain.digitalSourceType).toBe(ALGORITHMIC_MEDIA);
      expect(plain.record).toMatchObject(record);
      expect(readLineage(embedLineage(bytes, mediaType, record), mediaType).digitalSourceType).toBe(
        TRAINED_ALGORITHMIC_MEDIA,
      );
    },
  );

  it('refuses a source type it does not know, naming the field', async () => {
    const bytes = new Uint8Array(await image('png'));
    const bad = { digitalSourceType: 'compositeCapture' as DigitalSourceType };
    expect(() => embedLineage(bytes, 'image/png', record, bad)).toThrow(PixelError);
    expect(() => embedLineage(bytes, 'image/png', record, bad)).toThrow(
      /digitalSourceType.*compositeCapture|compositeCapture/,
    );
  });

  it('the catalogue says which: pixel/sketch is a plain algorithm, every real model a trained one', () => {
    const catalog = defaultCatalog();
    const entries = catalog.list();
    expect(entries.length).toBeGreaterThan(10);
    for (const entry of entries) {
      const expected = entry.provider === 'pixel' ? 'algorithmicMedia' : undefined;
      expect([entry.id, entry.digitalSourceType]).toEqual([entry.id, expected]);
    }
  });
});
