import { uniqueToken } from '../../runtime/unique.ts';

export interface LiftedJson {
  value: unknown;
  /** The decoded bytes of a string `lift` replaced with a marker, or undefined for any other string. */
  bytes(value: unknown): Uint8Array | undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MAX_LIFTED = 1_000;

/**
 * JSON.parse for a provider response carrying base64 images, without turning each ~350 KB base64 string
 * into a JS string twice (UTF-8 decode of the whole body, then JSON.parse) and decoding it a third time:
 * the value of every `"<key>": "…"` member is cut out of the bytes and decoded from them directly, and
 * the JSON around it (small) is parsed with a random marker in its place, so schemas still see a string.
 *
 * Only plain base64 values are lifted (no backslash inside, member position after `{` or `,`); anything
 * else stays in the JSON and is parsed as usual. Throws SyntaxError like JSON.parse on invalid JSON.
 * Hand-written: no JSON library offers to leave one field's raw bytes unparsed.
 */
export function parseJsonLiftingBase64(body: Buffer, key: string): LiftedJson {
  const needle = Buffer.from(`"${key}"`, 'utf8');
  const nonce = uniqueToken();
  const lifted = new Map<string, Uint8Array>();
  const pieces: string[] = [];
  let from = 0;
  let at = body.indexOf(needle, 0);
  while (at >= 0 && lifted.size < MAX_LIFTED) {
    const start = valueStart(body, at, at + needle.length);
    const end = start < 0 ? -1 : body.indexOf(QUOTE, start);
    const escaped = end >= 0 && body.subarray(start, end).includes(BACKSLASH);
    if (start >= 0 && end >= 0 && !escaped) {
      const marker = `pixel-lifted-${nonce}-${lifted.size}`;
      lifted.set(marker, decodeBase64Bytes(body, start, end));
      pieces.push(body.toString('utf8', from, start), marker);
      from = end;
    }
    at = body.indexOf(needle, Math.max(at + needle.length, end));
  }
  pieces.push(body.toString('utf8', from));
  const value: unknown = JSON.parse(lifted.size === 0 ? pieces[0]! : pieces.join(''));
  return { value, bytes: (v) => (typeof v === 'string' ? lifted.get(v) : undefined) };
}

/** Base64 characters decoded per slice: a multiple of 4, and small enough to stay a young-generation string. */
const SLICE_CHARS = 64 * 1024;

/**
 * Decodes base64 text held in `body[start, end)` slice by slice into one buffer. Turning the whole
 * ~350 KB value into one JS string would put it in V8's large-object space, and a few of those per
 * request is what drove a full mark-compact every ~10 requests. Text that is not plain padded base64
 * (whitespace, stray characters: a slice then decodes short) is decoded in one piece, as before.
 */
export function decodeBase64Bytes(body: Buffer, start: number, end: number): Uint8Array {
  const length = end - start;
  const out = Buffer.allocUnsafe(Math.floor((length * 3) / 4));
  let written = 0;
  let plain = length % 4 === 0;
  for (let at = start; plain && at < end; at += SLICE_CHARS) {
    const stop = Math.min(end, at + SLICE_CHARS);
    const n = out.write(body.toString('latin1', at, stop), written, 'base64');
    const padding = stop === end ? trailingPadding(body, stop) : 0;
    if (n !== ((stop - at) / 4) * 3 - padding) plain = false;
    written += n;
  }
  const bytes = plain ? out.subarray(0, written) : Buffer.from(body.toString('latin1', start, end), 'base64');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function trailingPadding(body: Buffer, end: number): number {
  if (body[end - 1] !== 0x3d) return 0; // `=`
  return body[end - 2] === 0x3d ? 2 : 1;
}

/** Where the string value of a member starts (after its opening quote), or -1 when this is no member. */
function valueStart(body: Buffer, keyAt: number, afterKey: number): number {
  let before = keyAt - 1;
  while (before >= 0 && isSpace(body[before]!)) before--;
  if (before < 0 || (body[before] !== 0x7b && body[before] !== 0x2c)) return -1; // `{` or `,`
  let i = afterKey;
  while (i < body.length && isSpace(body[i]!)) i++;
  if (body[i] !== 0x3a) return -1; // `:`
  i++;
  while (i < body.length && isSpace(body[i]!)) i++;
  return body[i] === QUOTE ? i + 1 : -1;
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}
