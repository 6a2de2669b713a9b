import { ascii, concat, malformed, utf8, view } from './bytes.ts';

const XMP_FLAG = 0x04;
const ALPHA_FLAG = 0x10;
/** Chunks that come before XMP in a VP8X file (WebP container spec order); unknown chunks stay after. */
const BEFORE_XMP = new Set(['VP8X', 'ICCP', 'ANIM', 'ANMF', 'ALPH', 'VP8 ', 'VP8L', 'EXIF']);

interface Chunk {
  fourcc: string;
  start: number;
  dataStart: number;
  dataEnd: number;
  /** Including the pad byte of odd-sized chunks. */
  end: number;
}

function chunks(bytes: Uint8Array): Chunk[] {
  if (bytes.length < 20 || ascii(bytes, 0, 4) !== 'RIFF' || ascii(bytes, 8, 4) !== 'WEBP') {
    throw malformed('WebP', 'not a RIFF/WEBP file');
  }
  const dv = view(bytes);
  const riffEnd = 8 + dv.getUint32(4, true);
  if (riffEnd > bytes.length || riffEnd < 20)
    throw malformed('WebP', 'RIFF size disagrees with the file length');
  const out: Chunk[] = [];
  let offset = 12;
  // Each pass advances at least 8 bytes, so the loop ends.
  while (offset < riffEnd) {
    if (offset + 8 > riffEnd) throw malformed('WebP', `truncated chunk header at byte ${offset}`);
    const fourcc = ascii(bytes, offset, 4);
    const size = dv.getUint32(offset + 4, true);
    const dataEnd = offset + 8 + size;
    // The pad byte of the last chunk may be missing in the wild; tolerate exactly that.
    const end = Math.min(dataEnd + (size % 2), riffEnd);
    if (dataEnd > riffEnd) throw malformed('WebP', `chunk "${fourcc}" runs past the end`);
    out.push({ fourcc, start: offset, dataStart: offset + 8, dataEnd, end });
    offset = end;
  }
  if (out.length === 0) throw malformed('WebP', 'no chunks');
  return out;
}

function makeChunk(fourcc: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + data.length + (data.length % 2));
  for (let i = 0; i < 4; i++) out[i] = fourcc.charCodeAt(i);
  view(out).setUint32(4, data.length, true);
  out.set(data, 8);
  return out;
}

/** Canvas size and alpha hint from a simple file's bitstream header. */
function simpleCanvas(bytes: Uint8Array, chunk: Chunk): { width: number; height: number; alpha: boolean } {
  const data = bytes.subarray(chunk.dataStart, chunk.dataEnd);
  const dv = view(data);
  if (chunk.fourcc === 'VP8 ') {
    // Key frame: 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height.
    if (
      data.length < 10 ||
      (data[0]! & 1) !== 0 ||
      data[3] !== 0x9d ||
      data[4] !== 0x01 ||
      data[5] !== 0x2a
    ) {
      throw malformed('WebP', 'VP8 bitstream has no key frame header');
    }
    return { width: dv.getUint16(6, true) & 0x3fff, height: dv.getUint16(8, true) & 0x3fff, alpha: false };
  }
  // VP8L: signature 0x2f, then 14 bits width-1, 14 bits height-1, 1 bit alpha_is_used.
  if (data.length < 5 || data[0] !== 0x2f) throw malformed('WebP', 'VP8L bitstream has no signature');
  const bits = dv.getUint32(1, true);
  return {
    width: (bits & 0x3fff) + 1,
    height: ((bits >>> 14) & 0x3fff) + 1,
    alpha: ((bits >>> 28) & 1) === 1,
  };
}

function vp8x(width: number, height: number, flags: number): Uint8Array {
  const data = new Uint8Array(10);
  data[0] = flags;
  const w = width - 1;
  const h = height - 1;
  data.set([w & 0xff, (w >> 8) & 0xff, (w >> 16) & 0xff, h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff], 4);
  return makeChunk('VP8X', data);
}

/** Sets the XMP flag (converting a simple VP8/VP8L file to VP8X) and replaces the XMP chunk. */
export function embedWebp(bytes: Uint8Array, xmp: string): Uint8Array {
  const all = chunks(bytes);
  const first = all[0]!;
  const slice = (c: Chunk) => {
    const raw = bytes.subarray(c.start, c.end);
    // Restore a missing pad byte so the chunks after it stay aligned.
    const padded = c.dataEnd + ((c.dataEnd - c.dataStart) % 2);
    return c.end === padded ? raw : concat([raw, new Uint8Array(padded - c.end)]);
  };
  const parts: Uint8Array[] = [];
  if (first.fourcc === 'VP8X') {
    if (first.dataEnd - first.dataStart < 10) throw malformed('WebP', 'VP8X chunk too short');
    const header = bytes.slice(first.start, first.end);
    header[8] = header[8]! | XMP_FLAG;
    parts.push(header);
  } else if (first.fourcc === 'VP8 ' || first.fourcc === 'VP8L') {
    const { width, height, alpha } = simpleCanvas(bytes, first);
    if (width < 1 || height < 1) throw malformed('WebP', 'zero canvas size');
    parts.push(vp8x(width, height, XMP_FLAG | (alpha ? ALPHA_FLAG : 0)), slice(first));
  } else {
    throw malformed('WebP', `unexpected first chunk "${first.fourcc}"`);
  }
  const rest = all.slice(1).filter((c) => c.fourcc !== 'XMP ');
  let at = 0;
  while (at < rest.length && BEFORE_XMP.has(rest[at]!.fourcc)) at++;
  parts.push(
    ...rest.slice(0, at).map(slice),
    makeChunk('XMP ', utf8.encode(xmp)),
    ...rest.slice(at).map(slice),
  );
  const body = concat(parts);
  const out = new Uint8Array(12 + body.length);
  out.set(bytes.subarray(0, 12));
  view(out).setUint32(4, 4 + body.length, true);
  out.set(body, 12);
  return out;
}

export function readWebp(bytes: Uint8Array): { xmp?: string } {
  const found = chunks(bytes).find((c) => c.fourcc === 'XMP ');
  return found ? { xmp: utf8.decode(bytes.subarray(found.dataStart, found.dataEnd)) } : {};
}
