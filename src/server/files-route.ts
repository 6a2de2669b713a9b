import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../catalog/db.ts';
import { ImageRepo } from '../catalog/images.ts';
import { PixelError } from '../protocol/errors.ts';
import { assertSafeKey, mediaTypeForKey, sha256FromKey } from '../storage/keys.ts';
import type { BlobStore } from '../storage/types.ts';

/**
 * `GET /files/<key>`: a blob, only while a live (not deleted) image row references it, so a deleted image
 * stops being served the moment DeleteImage answers, before the sweeper removes its bytes. The local store
 * serves regular files inside its folder only (no symlinks). No auth: like a bucket URL, the unguessable
 * content-addressed key is the capability, so `<img src>` works in browsers.
 *
 * Caching: the bytes under a key never change (ETag = sha256), so responses are `immutable`; a copy a
 * browser or CDN already holds outlives a delete (put a cache purge in front if that matters).
 */
export function filesRoute(deps: { db: Db; store: BlobStore }) {
  const images = new ImageRepo(deps.db);
  return async (request: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply) => {
    const key = request.params['*'];
    assertSafeKey(key);
    const missing = () => new PixelError({ code: 'not_found', field: 'key', message: `no file ${key}` });
    if (!(await images.isBlobReferenced(key))) throw missing();
    if (deps.store.kind !== 'local') return reply.redirect(await deps.store.url(key), 302);
    const etag = `"${sha256FromKey(key)}"`;
    if (request.headers['if-none-match'] === etag) return reply.status(304).header('etag', etag).send();
    const blob = await deps.store.get(key);
    if (!blob) throw missing();
    return reply
      .header('content-type', mediaTypeForKey(key))
      .header('etag', etag)
      .header('cache-control', CACHE_CONTROL)
      .header('x-content-type-options', 'nosniff')
      .send(Buffer.from(blob.bytes.buffer, blob.bytes.byteOffset, blob.bytes.byteLength));
  };
}

const CACHE_CONTROL = 'public, max-age=31536000, immutable';
