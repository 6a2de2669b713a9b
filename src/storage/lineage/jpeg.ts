import { ascii, concat, malformed, utf8, view } from './bytes.ts';

export const XMP_HEADER = 'http://ns.adobe.com/xap/1.0/\0';
const EXTENDED_XMP_HEADER = 'http://ns.adobe.com/xmp/extension/\0';
/** A segment's 16-bit length counts itself: at most 65533 payload bytes, minus the XMP header. */
export const MAX_XMP_PACKET_BYTES = 65533 - XMP_HEADER.length;

interface Segment {
  marker: number;
  start: number;
  end: number;
}

/** Segments from SOI up to (not including) SOS; `scanStart` is where SOS (or EOI) begins. */
function segments(bytes: Uint8Array): { list: Segment[]; scanStart: number } {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) throw malformed('JPEG', 'no SOI marker');
  const dv = view(bytes);
  const list: Segment[] = [];
  let offset = 2;
  // Each pass advances at least one byte, so the loop ends.
  while (offset < bytes.length) {
    if (bytes[offset] !== 0xff) throw malformed('JPEG', `expected a marker at byte ${offset}`);
    let p = offset + 1;
    while (p < bytes.length && bytes[p] === 0xff) p++; // fill bytes
    if (p >= bytes.length) break;
    const marker = bytes[p]!;
    if (marker === 0xda || marker === 0xd9) return { list, scanStart: offset };
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset = p + 1;
      continue;
    }
    if (p + 3 > bytes.length) break;
    const length = dv.getUint16(p + 1);
    if (length < 2 || p + 1 + length > bytes.length)
      throw malformed('JPEG', `segment at byte ${offset} runs past the end`);
    list.push({ marker, start: offset, end: p + 1 + length });
    offset = p + 1 + length;
  }
  throw malformed('JPEG', 'no image data (SOS) before the end of the file');
}

/** An APP1 segment whose payload begins with `header` (XMP, extended XMP or Exif). */
const payloadStarts = (bytes: Uint8Array, s: Segment, header: string) =>
  s.marker === 0xe1 &&
  s.end - s.start >= 4 + header.length &&
  ascii(bytes, s.start + 4, header.length) === header;

export function embedJpeg(bytes: Uint8Array, xmp: string): Uint8Array {
  const { list, scanStart } = segments(bytes);
  const packet = utf8.encode(xmp);
  if (packet.length > MAX_XMP_PACKET_BYTES) throw malformed('JPEG', 'XMP packet too large for one segment');
  const isXmp = (s: Segment) =>
    payloadStarts(bytes, s, XMP_HEADER) || payloadStarts(bytes, s, EXTENDED_XMP_HEADER);
  const kept = list.filter((s) => !isXmp(s));
  // After JFIF (APP0) and Exif (APP1) at the head of the file, where readers expect XMP.
  let at = 0;
  while (at < kept.length && (kept[at]!.marker === 0xe0 || payloadStarts(bytes, kept[at]!, 'Exif\0'))) at++;
  const segment = new Uint8Array(4 + XMP_HEADER.length + packet.length);
  segment[0] = 0xff;
  segment[1] = 0xe1;
  view(segment).setUint16(2, 2 + XMP_HEADER.length + packet.length);
  segment.set(utf8.encode(XMP_HEADER), 4);
  segment.set(packet, 4 + XMP_HEADER.length);
  return concat([
    bytes.subarray(0, 2),
    ...kept.slice(0, at).map((s) => bytes.subarray(s.start, s.end)),
    segment,
    ...kept.slice(at).map((s) => bytes.subarray(s.start, s.end)),
    bytes.subarray(scanStart),
  ]);
}

export function readJpeg(bytes: Uint8Array): { xmp?: string } {
  const { list } = segments(bytes);
  const found = list.find((s) => payloadStarts(bytes, s, XMP_HEADER));
  if (!found) return {};
  return { xmp: utf8.decode(bytes.subarray(found.start + 4 + XMP_HEADER.length, found.end)) };
}
