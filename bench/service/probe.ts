import type { Agent } from 'node:http';
import { post, type Target } from './load.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface Probe {
  /** Bytes of the image the caller gets (decoded b64_json, or downloaded from the URL). */
  imageBytes: number;
  /** Whether the image carries Pixel's lineage (a PNG text chunk naming the image). */
  lineage: boolean;
  via: 'b64_json' | 'url';
}

/**
 * Sends one request and checks the answer really holds a PNG (for `url`, downloads it), so a target
 * that answers 200 with nothing useful is caught before it is timed. Throws with the reason.
 */
export async function probe(agent: Agent, target: Target): Promise<Probe> {
  const { status, body } = await post(agent, target);
  if (status !== 200) throw new Error(`HTTP ${status}: ${body.toString('utf8', 0, 300)}`);
  const parsed = JSON.parse(body.toString('utf8')) as { data?: Array<{ b64_json?: string; url?: string }> };
  const item = parsed.data?.[0];
  let png: Buffer;
  let via: Probe['via'];
  if (item?.b64_json) {
    png = Buffer.from(item.b64_json, 'base64');
    via = 'b64_json';
  } else if (item?.url) {
    const response = await fetch(item.url, { signal: AbortSignal.timeout(30_000) });
    if (!response.ok) throw new Error(`image URL answered HTTP ${response.status}`);
    png = Buffer.from(await response.arrayBuffer());
    via = 'url';
  } else {
    throw new Error('answer has neither data[0].b64_json nor data[0].url');
  }
  if (!png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error(`data[0] (${via}) is not a PNG`);
  // Cheap check for the lineage chunk; the storage tests check its content.
  const lineage = png.includes('img_') && (png.includes('tEXt') || png.includes('iTXt'));
  return { imageBytes: png.length, lineage, via };
}
