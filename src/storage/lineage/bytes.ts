import { PixelError } from '../../protocol/errors.ts';

/** The error for bytes that do not parse as the format they claim to be. */
export function malformed(format: string, detail: string): PixelError {
  return new PixelError({
    code: 'invalid_argument',
    field: 'bytes',
    reason: 'malformed_image',
    message: `malformed ${format}: ${detail}`,
  });
}

export function ascii(bytes: Uint8Array, start: number, length: number): string {
  let out = '';
  for (let i = start; i < start + length && i < bytes.length; i++) out += String.fromCharCode(bytes[i]!);
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  // Every byte is written below, so no zero fill (an image-sized `new Uint8Array` clears ~256 KB for
  // nothing); unpooled, so `.buffer` is this array's own.
  const backing = Buffer.allocUnsafeSlow(total);
  const out = new Uint8Array(backing.buffer, backing.byteOffset, total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export const utf8 = {
  encode: (text: string): Uint8Array => new TextEncoder().encode(text),
  decode: (bytes: Uint8Array): string => new TextDecoder('utf-8').decode(bytes),
};

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
