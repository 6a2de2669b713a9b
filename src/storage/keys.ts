import { createHash } from 'node:crypto';
import { invalidArgument } from '../protocol/errors.ts';

/** Media types the store accepts, with the file extension used in the key. */
export const MEDIA_TYPE_EXTENSIONS: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/avif': 'avif',
};

const EXTENSION_MEDIA_TYPES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(MEDIA_TYPE_EXTENSIONS).map(([type, ext]) => [ext, type]),
);

/**
 * The only keys a store reads or writes. Anything else (`..`, absolute paths, backslashes, NUL,
 * upper case, other folders) is refused, which is what makes `/files/<key>` safe to serve.
 */
export const KEY_PATTERN = /^images\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})\.(png|jpg|webp|gif|avif)$/;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function extensionFor(mediaType: string): string {
  const ext = MEDIA_TYPE_EXTENSIONS[mediaType.toLowerCase()];
  if (ext === undefined) {
    throw invalidArgument(
      'mediaType',
      `unsupported media type "${mediaType}"; expected one of ${Object.keys(MEDIA_TYPE_EXTENSIONS).join(', ')}`,
    );
  }
  return ext;
}

/** `images/ab/cd/<sha256>.<ext>`: two fan-out levels keep folders small on a local disk. */
export function blobKey(sha256: string, mediaType: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw invalidArgument('sha256', 'must be 64 lowercase hex characters');
  return `images/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}.${extensionFor(mediaType)}`;
}

/** Throws PixelError invalid_argument (field `key`) unless the key is one this store could have made. */
export function assertSafeKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) throw invalidArgument('key', 'must be a non-empty string');
  if (key.includes('\0')) throw invalidArgument('key', 'must not contain NUL');
  if (key.includes('\\')) throw invalidArgument('key', 'must not contain backslashes');
  if (key.startsWith('/') || /^[a-zA-Z]:/.test(key)) throw invalidArgument('key', 'must be relative');
  if (key.split('/').some((part) => part === '..' || part === '.')) {
    throw invalidArgument('key', 'must not contain "." or ".." segments');
  }
  const match = KEY_PATTERN.exec(key);
  if (match === null) {
    throw invalidArgument('key', 'must look like images/ab/cd/<sha256>.<png|jpg|webp|gif|avif>');
  }
  // The fan-out folders must agree with the hash, so one blob has exactly one key.
  if (match[1] !== match[3]!.slice(0, 2) || match[2] !== match[3]!.slice(2, 4)) {
    throw invalidArgument('key', 'fan-out folders do not match the sha256');
  }
}

export function mediaTypeForKey(key: string): string {
  assertSafeKey(key);
  return EXTENSION_MEDIA_TYPES[key.slice(key.lastIndexOf('.') + 1)]!;
}

export function sha256FromKey(key: string): string {
  assertSafeKey(key);
  return KEY_PATTERN.exec(key)![3]!;
}

/** The media type the bytes actually are, from their magic numbers; undefined when unknown. */
export function sniffMediaType(bytes: Uint8Array): string | undefined {
  const at = (offset: number, ascii: string) =>
    bytes.length >= offset + ascii.length &&
    [...ascii].every((c, i) => bytes[offset + i] === c.charCodeAt(0));
  if (bytes.length >= 8 && bytes[0] === 0x89 && at(1, 'PNG\r\n\x1a\n')) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (at(0, 'RIFF') && at(8, 'WEBP')) return 'image/webp';
  if (at(0, 'GIF87a') || at(0, 'GIF89a')) return 'image/gif';
  if (at(4, 'ftypavif') || at(4, 'ftypavis')) return 'image/avif';
  return undefined;
}

/** Where a blob goes: its sha256, content-addressed key and (normalised) media type. */
export interface BlobAddress {
  sha256: string;
  key: string;
  mediaType: string;
}

// Keyed by the very bytes addressed (which nobody changes once handed to a store), so a store's put
// of bytes whose address the caller already asked for does not hash them a second time.
const addresses = new WeakMap<Uint8Array, BlobAddress>();

/**
 * Validates a put: non-empty bytes whose magic numbers match the declared media type, so a
 * mislabelled blob can never be stored under the wrong extension. A caller that needs the address
 * before the write (the catalogue row is inserted while the blob is written) calls this first.
 */
export function checkPut(bytes: Uint8Array, mediaType: unknown): BlobAddress {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument('bytes', 'must be a Uint8Array');
  if (bytes.length === 0) throw invalidArgument('bytes', 'must not be empty');
  if (typeof mediaType !== 'string') throw invalidArgument('mediaType', 'must be a string');
  const type = mediaType.toLowerCase();
  const known = addresses.get(bytes);
  if (known?.mediaType === type) return known;
  extensionFor(type);
  const sniffed = sniffMediaType(bytes);
  if (sniffed !== type) {
    throw invalidArgument('bytes', `bytes are ${sniffed ?? 'not a recognised image'}, not ${type}`);
  }
  const sha256 = sha256Hex(bytes);
  const address = { sha256, key: blobKey(sha256, type), mediaType: type };
  addresses.set(bytes, address);
  return address;
}
