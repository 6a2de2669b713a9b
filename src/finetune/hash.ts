import sharp from 'sharp';

/**
 * A small perceptual fingerprint: a 64-bit difference hash (dHash: the picture shrunk to 9×8 grey pixels,
 * one bit per horizontal neighbour pair) followed by a 16×16 grey thumbnail, all hex. The dHash alone
 * calls two product shots on the same plain backdrop similar (flat areas give the same bits), so two
 * images are near-duplicates only when both agree: hashes a few bits apart and thumbnails nearly equal.
 * Re-encoded, resized or lightly recompressed copies of one photo pass both.
 */
export async function differenceHash(bytes: Uint8Array): Promise<string> {
  const grey = sharp(bytes).flatten({ background: '#ffffff' }).greyscale();
  const { data } = await grey
    .clone()
    .resize(9, 8, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  let bits = 0n;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      bits = (bits << 1n) | (data[y * 9 + x]! > data[y * 9 + x + 1]! ? 1n : 0n);
    }
  }
  const thumb = await grey.resize(16, 16, { fit: 'fill' }).raw().toBuffer();
  return bits.toString(16).padStart(16, '0') + Buffer.from(thumb).toString('hex');
}

/** Bits that differ between the dHash parts of two fingerprints. */
export function hammingDistance(a: string, b: string): number {
  let x = BigInt(`0x${a.slice(0, 16)}`) ^ BigInt(`0x${b.slice(0, 16)}`);
  let count = 0;
  while (x > 0n) {
    count += Number(x & 1n);
    x >>= 1n;
  }
  return count;
}

/** Mean absolute difference of the two thumbnails, 0–255 (large when the fingerprints have none). */
export function thumbnailDistance(a: string, b: string): number {
  const ta = Buffer.from(a.slice(16), 'hex');
  const tb = Buffer.from(b.slice(16), 'hex');
  if (ta.length === 0 || ta.length !== tb.length) return 255;
  let sum = 0;
  for (let i = 0; i < ta.length; i++) sum += Math.abs(ta[i]! - tb[i]!);
  return sum / ta.length;
}
