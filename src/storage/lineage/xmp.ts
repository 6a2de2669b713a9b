import { invalidArgument } from '../../protocol/errors.ts';
import { utf8 } from './bytes.ts';

const IPTC_SOURCE_TYPES = 'http://cv.iptc.org/newscodes/digitalsourcetype/';
/** Made by a model trained on sampled content (diffusion and other generative models). */
export const TRAINED_ALGORITHMIC_MEDIA = `${IPTC_SOURCE_TYPES}trainedAlgorithmicMedia`;
/** Made by an algorithm without a trained model (e.g. pixel/sketch's drawn shapes). */
export const ALGORITHMIC_MEDIA = `${IPTC_SOURCE_TYPES}algorithmicMedia`;

/** The IPTC digital source types Pixel writes, by their code. */
export type DigitalSourceType = 'trainedAlgorithmicMedia' | 'algorithmicMedia';
export const DIGITAL_SOURCE_TYPES: Record<DigitalSourceType, string> = {
  trainedAlgorithmicMedia: TRAINED_ALGORITHMIC_MEDIA,
  algorithmicMedia: ALGORITHMIC_MEDIA,
};
/** Pixel's XMP namespace (a stable identifier, not a fetched document). */
export const PIXEL_XMP_NS = 'https://github.com/pixel-platform/pixel/ns/lineage/1.0/';

export interface XmpContent {
  record?: Record<string, unknown>;
  digitalSourceType?: string;
  /** True when the embedded JSON copy had to be shortened to fit (JPEG segments). */
  truncated?: boolean;
}

/** JSON text for the record; refuses what cannot round-trip (cycles, BigInt, non-objects). */
export function recordJson(record: unknown): string {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw invalidArgument('record', 'lineage record must be a JSON object');
  }
  let json: string;
  try {
    json = JSON.stringify(record);
  } catch (error) {
    throw invalidArgument('record', `lineage record is not JSON-serialisable: ${(error as Error).message}`);
  }
  // U+FFFE/U+FFFF are not XML characters; as JSON escapes they survive the XMP round trip.
  return json.replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Attribute values: control characters dropped, length bounded so they cannot crowd out the record. */
const attr = (value: unknown) =>
  escapeXml(
    String(value)
      .replace(/[\u0000-\u001f\uFFFE\uFFFF]/g, '')
      .slice(0, 256),
  );

function packet(
  record: Record<string, unknown>,
  json: string,
  omitted: string[],
  sourceType: DigitalSourceType,
): string {
  const id = record.imageId ?? record.id;
  const attrs = [
    `Iptc4xmpExt:DigitalSourceType="${DIGITAL_SOURCE_TYPES[sourceType]}"`,
    'xmp:CreatorTool="Pixel"',
    typeof record.createdAt === 'string' ? `xmp:CreateDate="${attr(record.createdAt)}"` : '',
    id !== undefined ? `pixel:imageId="${attr(id)}"` : '',
    record.model !== undefined ? `pixel:model="${attr(record.model)}"` : '',
    omitted.length > 0 ? 'pixel:lineageTruncated="True"' : '',
    omitted.length > 0 ? `pixel:lineageOmitted="${attr(omitted.join(','))}"` : '',
  ].filter((a) => a !== '');
  return [
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>',
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    '  <rdf:Description rdf:about=""',
    '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"',
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"',
    `    xmlns:pixel="${PIXEL_XMP_NS}"`,
    ...attrs.map((a) => `    ${a}`),
    '   >',
    `   <pixel:lineage>${escapeXml(json)}</pixel:lineage>`,
    '  </rdf:Description>',
    ' </rdf:RDF>',
    '</x:xmpmeta>',
    '<?xpacket end="w"?>',
  ].join('\n');
}

/**
 * The XMP packet for a lineage record. With `maxBytes` (JPEG's 64 KB segment), the largest top-level
 * fields are left out of the embedded JSON copy one by one until it fits; the copy stays valid JSON
 * and the packet names what was left out.
 */
export function buildXmp(
  record: Record<string, unknown>,
  maxBytes = Number.POSITIVE_INFINITY,
  sourceType: DigitalSourceType = 'trainedAlgorithmicMedia',
): string {
  if (!Object.hasOwn(DIGITAL_SOURCE_TYPES, sourceType)) {
    throw invalidArgument(
      'digitalSourceType',
      `must be ${Object.keys(DIGITAL_SOURCE_TYPES).join(' or ')}, got "${String(sourceType)}"`,
    );
  }
  const full = recordJson(record);
  let xml = packet(record, full, [], sourceType);
  if (utf8.encode(xml).length <= maxBytes) return xml;
  const bySize = Object.keys(record).sort(
    (a, b) => recordJson({ [b]: record[b] }).length - recordJson({ [a]: record[a] }).length,
  );
  const kept: Record<string, unknown> = { ...record };
  const omitted: string[] = [];
  for (const key of bySize) {
    delete kept[key];
    omitted.push(key);
    xml = packet(record, recordJson(kept), omitted, sourceType);
    if (utf8.encode(xml).length <= maxBytes) return xml;
  }
  throw invalidArgument('record', 'lineage record does not fit in the XMP packet even when emptied');
}

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_, entity: string) => {
    if (entity === 'lt') return '<';
    if (entity === 'gt') return '>';
    if (entity === 'amp') return '&';
    if (entity === 'quot') return '"';
    if (entity === 'apos') return "'";
    const code = entity.startsWith('#x')
      ? Number.parseInt(entity.slice(2), 16)
      : Number.parseInt(entity.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : '';
  });
}

export function parseRecordJson(json: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined; // a damaged copy is reported as absent, not as a broken image
  }
}

/**
 * Reads what Pixel writes (and the DigitalSourceType as other tools write it: attribute or element).
 * Not a general RDF parser: that would be a dependency for two fields.
 */
export function parseXmp(xmp: string): XmpContent {
  const out: XmpContent = {};
  const source =
    /Iptc4xmpExt:DigitalSourceType\s*=\s*"([^"]*)"/.exec(xmp) ??
    /<Iptc4xmpExt:DigitalSourceType>([^<]*)<\/Iptc4xmpExt:DigitalSourceType>/.exec(xmp) ??
    /<Iptc4xmpExt:DigitalSourceType\s+rdf:resource\s*=\s*"([^"]*)"/.exec(xmp);
  if (source) out.digitalSourceType = unescapeXml(source[1]!.trim());
  const lineage = /<pixel:lineage>([\s\S]*?)<\/pixel:lineage>/.exec(xmp);
  if (lineage) {
    const record = parseRecordJson(unescapeXml(lineage[1]!));
    if (record) out.record = record;
  }
  if (/pixel:lineageTruncated\s*=\s*"True"/.test(xmp)) out.truncated = true;
  return out;
}
