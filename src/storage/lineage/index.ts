/**
 * Lineage embedded in every stored image, without re-encoding its pixels: a PNG iTXt chunk with the
 * JSON record plus XMP (IPTC DigitalSourceType = trainedAlgorithmicMedia, image id, model) in PNG,
 * JPEG (APP1) and WebP (VP8X + XMP chunk).
 *
 * Hand-written: no maintained npm library writes XMP into all three containers without decoding and
 * re-encoding the image (sharp's withXmp re-encodes; png-chunk-* handle PNG only), and the container
 * edits are small and fully specified (PNG spec, JPEG APPn, RIFF/WebP container spec).
 */
import { invalidArgument } from '../../protocol/errors.ts';
import { embedJpeg, MAX_XMP_PACKET_BYTES, readJpeg } from './jpeg.ts';
import { embedPng, readPng } from './png.ts';
import { embedWebp, readWebp } from './webp.ts';
import { buildXmp, parseRecordJson, parseXmp, recordJson } from './xmp.ts';

export { TRAINED_ALGORITHMIC_MEDIA } from './xmp.ts';

export interface LineageRead {
  record?: Record<string, unknown>;
  xmp?: string;
  digitalSourceType?: string;
  /** The JPEG copy of the record lost its largest fields to fit in one segment (the XMP lists them). */
  truncated?: boolean;
}

type Format = 'png' | 'jpeg' | 'webp';

function formatOf(mediaType: string): Format {
  switch (typeof mediaType === 'string' ? mediaType.toLowerCase() : mediaType) {
    case 'image/png':
      return 'png';
    case 'image/jpeg':
    case 'image/jpg':
      return 'jpeg';
    case 'image/webp':
      return 'webp';
    default:
      throw invalidArgument(
        'mediaType',
        `lineage can be embedded in image/png, image/jpeg or image/webp, not "${mediaType}"`,
      );
  }
}

function checkBytes(bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument('bytes', 'must be a Uint8Array');
}

/** Returns new bytes carrying `record`; any lineage embedded earlier is replaced, not stacked. */
export function embedLineage(
  bytes: Uint8Array,
  mediaType: string,
  record: Record<string, unknown>,
): Uint8Array {
  checkBytes(bytes);
  const format = formatOf(mediaType);
  const json = recordJson(record);
  if (format === 'png') return embedPng(bytes, json, buildXmp(record));
  if (format === 'jpeg') return embedJpeg(bytes, buildXmp(record, MAX_XMP_PACKET_BYTES));
  return embedWebp(bytes, buildXmp(record));
}

export function readLineage(bytes: Uint8Array, mediaType: string): LineageRead {
  checkBytes(bytes);
  const format = formatOf(mediaType);
  const found: { json?: string; xmp?: string } =
    format === 'png' ? readPng(bytes) : format === 'jpeg' ? readJpeg(bytes) : readWebp(bytes);
  const out: LineageRead = {};
  if (found.xmp !== undefined) {
    const parsed = parseXmp(found.xmp);
    out.xmp = found.xmp;
    if (parsed.digitalSourceType !== undefined) out.digitalSourceType = parsed.digitalSourceType;
    if (parsed.record !== undefined) out.record = parsed.record;
    if (parsed.truncated) out.truncated = true;
  }
  // PNG's text chunk carries the full record; prefer it over the XMP copy.
  const fromChunk = found.json !== undefined ? parseRecordJson(found.json) : undefined;
  if (fromChunk !== undefined) out.record = fromChunk;
  return out;
}
