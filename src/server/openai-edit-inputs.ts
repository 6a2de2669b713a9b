import type { Queryable } from '../catalog/db.ts';
import { ImageRepo } from '../catalog/images.ts';
import type { InputImage } from '../generate/input-images.ts';
import { invalidArgument } from '../protocol/errors.ts';
import { readImageHeader } from '../providers/common/image-header.ts';
import { sha256Hex } from '../storage/keys.ts';
import type { BlobStore } from '../storage/types.ts';
import type { Caller } from './image-service.ts';

const MEDIA_TYPES = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' } as const;

/** An uploaded part as an input image: PNG, JPEG or WebP by its bytes (the part's own content type is not trusted). */
export function inputImageOf(
  bytes: Uint8Array,
  field: string,
): InputImage & { width: number; height: number } {
  const header = readImageHeader(bytes);
  if (!header || header.format === 'gif') {
    throw invalidArgument(field, `${field} must be a PNG, JPEG or WebP image`);
  }
  return { bytes, mediaType: MEDIA_TYPES[header.format], width: header.width, height: header.height };
}

/**
 * The catalogue ids of an edit's input images, in order. An image this team already has (same bytes:
 * e.g. one Pixel made and the caller sent back) is that image; any other is stored as an image of its own
 * (model and provider `upload`), so the edited images name a parent that exists and can be fetched.
 */
export async function catalogueInputImages(
  deps: { db: Queryable; store: BlobStore },
  images: ReadonlyArray<InputImage & { width: number; height: number }>,
  caller: Caller,
): Promise<string[]> {
  const repo = new ImageRepo(deps.db);
  const ids: string[] = [];
  for (const image of images) {
    const sha256 = sha256Hex(image.bytes);
    const known = await deps.db.query<{ id: string }>(
      `SELECT id FROM images WHERE sha256 = $1 AND team = $2 AND deleted_at IS NULL
       ORDER BY created_at DESC, id DESC LIMIT 1`,
      [sha256, caller.team],
    );
    if (known[0]) {
      ids.push(known[0].id);
      continue;
    }
    const blob = await deps.store.put(image.bytes, { mediaType: image.mediaType });
    const row = await repo.insert({
      team: caller.team,
      model: 'upload',
      route: 'upload',
      provider: 'upload',
      blobKey: blob.key,
      sha256: blob.sha256,
      byteSize: image.bytes.byteLength,
      mediaType: image.mediaType,
      width: image.width,
      height: image.height,
      prompt: '',
      params: { source: 'upload', use: 'edit input' },
    });
    ids.push(row.id);
  }
  return ids;
}
