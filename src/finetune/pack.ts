import { zipSync } from 'fflate';
import type { BlobStore } from '../storage/types.ts';
import type { DatasetImage } from './datasets.ts';

const EXT: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' };

/**
 * The dataset as one zip, the way LoRA trainers take it (Replicate's `input_images`, fal's
 * `images_data_url`, a diffusers box): `NN.<ext>` images with `NN.txt` captions beside them where a caption
 * exists. Deterministic: the same dataset gives the same bytes.
 */
export async function packZip(store: BlobStore, images: readonly DatasetImage[]): Promise<Uint8Array> {
  const entries: Record<string, [Uint8Array, { mtime: Date }]> = {};
  const mtime = new Date('2000-01-01T00:00:00Z');
  for (const [index, image] of images.entries()) {
    const blob = await store.get(image.key);
    if (!blob) throw new Error(`dataset image ${image.file} is missing from the blob store (${image.key})`);
    const stem = String(index + 1).padStart(2, '0');
    entries[`${stem}.${EXT[image.mediaType] ?? 'bin'}`] = [blob.bytes, { mtime }];
    if (image.caption) entries[`${stem}.txt`] = [new TextEncoder().encode(image.caption), { mtime }];
  }
  return zipSync(entries, { level: 6 });
}

/** The dataset as URLs (trainers that fetch each image themselves), with captions. */
export async function packUrlList(
  store: BlobStore,
  images: readonly DatasetImage[],
): Promise<Array<{ url: string; caption?: string }>> {
  return Promise.all(
    images.map(async (image) => ({
      url: await store.url(image.key),
      ...(image.caption && { caption: image.caption }),
    })),
  );
}
