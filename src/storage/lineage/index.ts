/**
 * Lineage embedded in every stored image, without re-encoding its pixels: a PNG iTXt chunk with the
 * JSON record plus XMP (IPTC DigitalSourceType: trainedAlgorithmicMedia for a trained model, algorithmicMedia
 * for a plain algorithm such as pixel/sketch; image id, model) in PNG, JPEG (APP1) and WebP (VP8X + XMP chunk).
 *
 * Hand-written: no maintained npm library writes XMP into all three containers without decoding and
 * re-encoding the image (sharp's withXmp re-encodes; png-chunk-* handle PNG only), and the container
 * edits are small and fully specified (PNG spec, JPEG APPn, RIFF/WebP container spec).
 */
import { invalidArgument } from '../../protocol/errors.ts';
import { embedJpeg, MAX_XMP_PACKET_BYTES, readJpeg } from './jpeg.ts';
import { embedPng, readPng } from './png.ts';
import { embedWebp, readWebp } from './webp.ts';
import { buildXmp, type DigitalSourceType, parseRecordJson, parseXmp, recordJson } from './xmp.ts';

export {
  ALGORITHMIC_MEDIA,
  DIGITAL_SOURCE_TYPES,
  type DigitalSourceType,
  TRAINED_ALGORITHMIC_MEDIA,
} from './xmp.ts';

export interface EmbedOptions {
  /** What made the pixels (IPTC): a trained model (the default) or a plain algorithm. */
  digitalSourceType?: DigitalSourceType;
}

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
  options: EmbedOptions = {},
): Uint8Array {
  checkBytes(bytes);
  const format = formatOf(mediaType);
  const json = recordJson(record);
  const source = options.digitalSourceType ?? 'trainedAlgorithmicMedia';
  if (format === 'png') return embedPng(bytes, json, buildXmp(record, Number.POSITIVE_INFINITY, source));
  if (format === 'jpeg') return embedJpeg(bytes, buildXmp(record, MAX_XMP_PACKET_BYTES, source));
  return embedWebp(bytes, buildXmp(record, Number.POSITIVE_INFINITY, source));
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
