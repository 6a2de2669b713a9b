import { crc32, inflateSync } from 'node:zlib';
import { ascii, concat, malformed, utf8, view } from './bytes.ts';

export const LINEAGE_KEYWORD = 'pixel:lineage';
export const XMP_KEYWORD = 'XML:com.adobe.xmp';
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const TEXT_TYPES = new Set(['tEXt', 'zTXt', 'iTXt']);
/** Decompressed text larger than this is refused (a zip bomb in a zTXt chunk). */
const MAX_TEXT_BYTES = 16 * 1024 * 1024;

interface Chunk {
  type: string;
  start: number;
  /** Payload bounds (without length, type and CRC). */
  dataStart: number;
  dataEnd: number;
  end: number;
}

function chunks(bytes: Uint8Array): Chunk[] {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw malformed('PNG', 'bad signature');
  const dv = view(bytes);
  const out: Chunk[] = [];
  let offset = 8;
  // Every pass advances at least 12 bytes, so the loop ends.
  while (offset < bytes.length) {
    if (offset + 12 > bytes.length) throw malformed('PNG', `truncated chunk header at byte ${offset}`);
    const length = dv.getUint32(offset);
    const type = ascii(bytes, offset + 4, 4);
    if (!/^[A-Za-z]{4}$/.test(type)) throw malformed('PNG', `bad chunk type at byte ${offset}`);
    if (length > 0x7fffffff || offset + 12 + length > bytes.length) {
      throw malformed('PNG', `chunk ${type} runs past the end of the file`);
    }
    const chunk = {
      type,
      start: offset,
      dataStart: offset + 8,
      dataEnd: offset + 8 + length,
      end: offset + 12 + length,
    };
    out.push(chunk);
    offset = chunk.end;
    if (type === 'IEND') break;
  }
  if (out[0]?.type !== 'IHDR') throw malformed('PNG', 'first chunk is not IHDR');
  if (out.at(-1)?.type !== 'IEND') throw malformed('PNG', 'no IEND chunk');
  return out;
}

function keyword(bytes: Uint8Array, chunk: Chunk): string {
  const limit = Math.min(chunk.dataEnd, chunk.dataStart + 80);
  const nul = bytes.subarray(chunk.dataStart, limit).indexOf(0);
  return nul < 0 ? '' : ascii(bytes, chunk.dataStart, nul);
}

function makeChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = view(out);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** iTXt, uncompressed (XMP readers expect the packet uncompressed), no language tag. */
function itxt(key: string, text: string): Uint8Array {
  return makeChunk('iTXt', concat([utf8.encode(key), new Uint8Array([0, 0, 0, 0, 0]), utf8.encode(text)]));
}

/**
 * Replaces any earlier lineage/XMP text chunks with new ones just before the first IDAT (so before
 * IEND, as the spec allows anywhere between IHDR and IEND): readers that stop at the image data, such
 * as libvips' metadata(), still see the XMP. Pixel data chunks are copied byte for byte.
 */
export function embedPng(bytes: Uint8Array, json: string, xmp: string): Uint8Array {
  const all = chunks(bytes);
  const kept = all.filter(
    (c) => !(TEXT_TYPES.has(c.type) && [LINEAGE_KEYWORD, XMP_KEYWORD].includes(keyword(bytes, c))),
  );
  let at = kept.findIndex((c) => c.type === 'IDAT');
  if (at < 0) at = kept.length - 1; // no IDAT (unusual): just before IEND
  const copy = (c: Chunk) => bytes.subarray(c.start, c.end);
  return concat([
    bytes.subarray(0, 8),
    ...kept.slice(0, at).map(copy),
    itxt(LINEAGE_KEYWORD, json),
    itxt(XMP_KEYWORD, xmp),
    ...kept.slice(at).map(copy),
  ]);
}

function textOf(bytes: Uint8Array, chunk: Chunk): string {
  const data = bytes.subarray(chunk.dataStart, chunk.dataEnd);
  const key = keyword(bytes, chunk);
  let p = key.length + 1;
  if (chunk.type === 'tEXt') return new TextDecoder('latin1').decode(data.subarray(p));
  if (chunk.type === 'zTXt') return new TextDecoder('latin1').decode(inflate(data.subarray(p + 1)));
  // iTXt: compression flag, method, language tag\0, translated keyword\0, text
  const compressed = data[p] === 1;
  p += 2;
  for (let field = 0; field < 2; field++) {
    const nul = data.indexOf(0, p);
    if (nul < 0) throw malformed('PNG', 'truncated iTXt chunk');
    p = nul + 1;
  }
  const text = data.subarray(p);
  return utf8.decode(compressed ? inflate(text) : text);
}

function inflate(data: Uint8Array): Uint8Array {
  try {
    return inflateSync(data, { maxOutputLength: MAX_TEXT_BYTES });
  } catch {
    throw malformed('PNG', 'compressed text chunk does not inflate');
  }
}

export function readPng(bytes: Uint8Array): { json?: string; xmp?: string } {
  const out: { json?: string; xmp?: string } = {};
  for (const chunk of chunks(bytes)) {
    if (!TEXT_TYPES.has(chunk.type)) continue;
    const key = keyword(bytes, chunk);
    if (key === LINEAGE_KEYWORD) out.json = textOf(bytes, chunk);
    else if (key === XMP_KEYWORD) out.xmp = textOf(bytes, chunk);
  }
  return out;
}
