import type { Catalog } from '../models/catalog.ts';
import { invalidArgument, PixelError } from '../protocol/errors.ts';
import { STYLES } from '../protocol/request.ts';
import { uniqueToken } from '../runtime/unique.ts';
import type { ReportLine } from '../translate/types.ts';
import type { GenerateAndStoreResult } from './image-service.ts';

/**
 * The OpenAI Images API request shape → Pixel's unified request. Pure mapping, no I/O.
 *
 * - `model`: a Pixel id or alias; a bare OpenAI id (`gpt-image-1.5`) means `openai/<id>`; absent = default.
 * - `size`: `WxH` → width/height (exact fit), `auto` → the model's default.
 * - `quality`: low→draft, medium/standard→standard, high/hd→high, auto→the model's default; a value
 *   Pixel does not know is reported as dropped (the model's default is used), never refused.
 * - `output_format` → format; `background` as is; `moderation`, `output_compression`, `user` →
 *   `providerOptions.openai` (reported as dropped on other providers' models).
 * - `style`: Pixel's own styles (`photographic`, …) as Pixel's style; OpenAI's `vivid` / `natural`
 *   (a DALL·E 3 parameter, and DALL·E 3 is retired) are reported as dropped.
 * - `stream`, `partial_images`: Server-Sent Events instead of one JSON answer (see openai-stream.ts).
 * - `response_format`: `b64_json` (default, like GPT image models) or `url` (this server's `/files/…`
 *   or the bucket's URL).
 * - Pixel's own fields ride along in camelCase: negativePrompt, width, height, aspectRatio, fit, cfgScale,
 *   style, steps, seed, format, providerOptions, onUnsupported, app, vars, appLabel, appVersion, and
 *   gate (the quality gate; its rounds and verdict come back in `pixel.gate`).
 * - Any other field (OpenAI's newer ones such as `safety_identifier`, or fields of other APIs) is
 *   accepted and reported as dropped: an SDK newer than this server must keep working.
 */
export type ResponseFormat = 'b64_json' | 'url';

export interface MappedRequest {
  input: Record<string, unknown>;
  responseFormat: ResponseFormat;
  /** `stream: true`: answer with Server-Sent Events. */
  stream: boolean;
  /** Partial images asked for while streaming (0–3); only providers that give partials send them. */
  partialImages: number;
  /** Report lines for request fields this surface took but does not pass on. */
  dropped: ReportLine[];
}

/** OpenAI fields this surface maps itself (the rest of OpenAI's fields are dropped with a report line). */
const OPENAI_FIELDS = new Set([
  'model',
  'prompt',
  'n',
  'size',
  'quality',
  'background',
  'output_format',
  'response_format',
  'moderation',
  'output_compression',
  'user',
  'style',
  'stream',
  'partial_images',
]);
/** Forwarded to OpenAI's models as is (providerOptions.openai); other models report them as dropped. */
const OPENAI_FORWARDED = ['moderation', 'output_compression', 'user'] as const;
const PIXEL_FIELDS = new Set([
  'negativePrompt',
  'width',
  'height',
  'aspectRatio',
  'fit',
  'cfgScale',
  'steps',
  'seed',
  'format',
  'providerOptions',
  'onUnsupported',
  'app',
  'vars',
  'appLabel',
  'appVersion',
  // The quality gate (needs app): true, or { judge, maxRounds, threshold, budgetUsd, unsure, … }.
  'gate',
]);
const QUALITY: Record<string, string | undefined> = {
  low: 'draft',
  medium: 'standard',
  high: 'high',
  hd: 'high',
  standard: 'standard',
  draft: 'draft',
  auto: undefined,
};
/** OpenAI's own style values (DALL·E 3). */
const OPENAI_STYLES = new Set(['vivid', 'natural']);

/** Fields some callers send in snake case although Pixel's own field is camelCase. */
const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

const isSet = (value: unknown) => value !== undefined && value !== null;

export function mapOpenAIRequest(body: unknown, catalog: Catalog): MappedRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidArgument('(body)', 'the request body must be a JSON object');
  }
  const raw = body as Record<string, unknown>;
  const dropped: ReportLine[] = [];
  for (const key of Object.keys(raw)) {
    if (OPENAI_FIELDS.has(key) || PIXEL_FIELDS.has(key) || !isSet(raw[key])) continue;
    const hint = PIXEL_FIELDS.has(camel(key)) ? ` (Pixel's field is ${camel(key)})` : '';
    dropped.push({
      param: key,
      status: 'dropped',
      requested: raw[key],
      note: `not a field this server passes on; ignored${hint}`,
    });
  }
  const input: Record<string, unknown> = {};
  for (const key of PIXEL_FIELDS) if (raw[key] !== undefined) input[key] = raw[key];
  // With an application, an empty or absent prompt means "render the application's template".
  if (!(raw.app !== undefined && (raw.prompt === '' || raw.prompt == null))) input.prompt = raw.prompt;
  if (isSet(raw.n)) input.n = raw.n;
  if (isSet(raw.model)) input.model = modelName(raw.model, catalog);

  if (isSet(raw.size) && raw.size !== 'auto') {
    const match = typeof raw.size === 'string' ? /^(\d{1,5})x(\d{1,5})$/.exec(raw.size) : null;
    if (!match) throw invalidArgument('size', 'must be "WIDTHxHEIGHT" (e.g. "1024x1024") or "auto"');
    if (raw.width !== undefined || raw.height !== undefined || raw.aspectRatio !== undefined) {
      throw invalidArgument('size', 'give either size or width/height/aspectRatio, not both');
    }
    input.width = Number(match[1]);
    input.height = Number(match[2]);
  }
  if (isSet(raw.quality)) {
    if (typeof raw.quality === 'string' && raw.quality in QUALITY) {
      const quality = QUALITY[raw.quality];
      if (quality !== undefined) input.quality = quality;
    } else {
      dropped.push({
        param: 'quality',
        status: 'dropped',
        requested: raw.quality,
        note: `not a quality this server knows (${Object.keys(QUALITY).join(', ')}); the model's default is used`,
      });
    }
  }
  if (isSet(raw.style)) {
    if (typeof raw.style === 'string' && OPENAI_STYLES.has(raw.style)) {
      dropped.push({
        param: 'style',
        status: 'dropped',
        requested: raw.style,
        note: `OpenAI's "${raw.style}" is a DALL·E 3 parameter and no model here takes it; Pixel's style takes ${STYLES.join(', ')}`,
      });
    } else {
      input.style = raw.style;
    }
  }
  if (isSet(raw.background)) input.background = raw.background;
  if (isSet(raw.output_format)) {
    if (raw.format !== undefined && raw.format !== raw.output_format) {
      throw invalidArgument('output_format', 'conflicts with format; give one of them');
    }
    input.format = raw.output_format;
  }
  const openaiOptions: Record<string, unknown> = {};
  for (const key of OPENAI_FORWARDED) if (isSet(raw[key])) openaiOptions[key] = raw[key];
  if (Object.keys(openaiOptions).length > 0) {
    const given = (input.providerOptions ?? {}) as Record<string, unknown>;
    if (typeof given !== 'object' || Array.isArray(given))
      throw invalidArgument('providerOptions', 'must be an object keyed by provider');
    input.providerOptions = {
      ...given,
      openai: { ...((given.openai as Record<string, unknown>) ?? {}), ...openaiOptions },
    };
  }

  const format = raw.response_format ?? 'b64_json';
  if (format !== 'b64_json' && format !== 'url')
    throw invalidArgument('response_format', 'must be "b64_json" or "url"');
  const stream = raw.stream === true || raw.stream === 'true';
  if (isSet(raw.stream) && !stream && raw.stream !== false && raw.stream !== 'false')
    throw invalidArgument('stream', 'must be true or false');
  let partialImages = 0;
  if (isSet(raw.partial_images)) {
    const n = typeof raw.partial_images === 'string' ? Number(raw.partial_images) : raw.partial_images;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 3)
      throw invalidArgument(
        'partial_images',
        `must be an integer from 0 to 3, got ${JSON.stringify(raw.partial_images)}`,
      );
    partialImages = n;
    if (!stream && n > 0) {
      dropped.push({
        param: 'partial_images',
        status: 'dropped',
        requested: n,
        note: 'partial images are sent only with stream: true',
      });
    }
  }
  return { input, responseFormat: format, stream, partialImages, dropped };
}

/** A bare OpenAI model id means the OpenAI model of that name, so unchanged OpenAI code keeps working. */
function modelName(model: unknown, catalog: Catalog): unknown {
  if (typeof model !== 'string' || model.includes('/')) return model;
  if (catalog.get(model) || catalog.aliases().some((a) => a.alias === model)) return model;
  return catalog.get(`openai/${model}`) ? `openai/${model}` : model;
}

/** Pixel's own block of an answer: image ids, seeds, the route, the translation report. */
export function pixelBlock(result: GenerateAndStoreResult): Record<string, unknown> {
  return {
    images: result.images.map((i) => i.id),
    model: result.model,
    route: result.route,
    report: result.report,
    seeds: result.images.map((i) => i.seed),
    // Per image: whether its seed alone makes it again (false when it is its batch's shared seed).
    reproducible: result.images.map((i) => i.params.reproducible !== false),
    costEstimateUsd: result.costEstimateUsd,
    notes: result.notes,
    replayed: result.replayed,
    ...('gate' in result && result.gate !== undefined && { gate: result.gate }),
  };
}

/** The OpenAI response, plus Pixel's own block (`pixel`) with image ids, the report and the route. */
export function openAIResponse(
  result: GenerateAndStoreResult,
  data: Array<{ b64_json?: string; url?: string }>,
): Record<string, unknown> {
  const first = result.images[0];
  const format = first?.mediaType.replace('image/', '');
  return {
    created: Math.floor((first?.createdAt ?? new Date()).getTime() / 1000),
    data,
    ...(format !== undefined && { output_format: format === 'jpg' ? 'jpeg' : format }),
    ...(first !== undefined && { size: `${first.width}x${first.height}` }),
    pixel: pixelBlock(result),
  };
}

/** Header values are ASCII: JSON with every other character as a \u escape is still the same JSON. */
const asciiJson = (value: unknown) =>
  JSON.stringify(value).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

/** Kept well under the 16 KB of response headers Node's and undici's clients accept. */
export const REPORT_HEADER_MAX = 8 * 1024;

/**
 * The report and ids as response headers, for clients that surface headers but not unknown body fields:
 * the AI SDK's `generateImage` (`@ai-sdk/openai-compatible` gives image models no provider metadata)
 * returns them in `responses[i].headers`. A report too long for a header keeps its first lines and says
 * how many it left out (`pixel-report-omitted`); the body's `pixel` block always has all of them.
 */
export function pixelHeaders(result: GenerateAndStoreResult): Record<string, string> {
  const headers: Record<string, string> = {
    'pixel-images': result.images.map((i) => i.id).join(','),
    'pixel-route': result.route,
  };
  let lines = result.report;
  let report = asciiJson(lines);
  while (report.length > REPORT_HEADER_MAX && lines.length > 0) {
    lines = lines.slice(0, Math.max(0, Math.floor(lines.length * 0.75)));
    report = asciiJson(lines);
  }
  headers['pixel-report'] = report;
  if (lines.length < result.report.length) {
    headers['pixel-report-omitted'] = String(result.report.length - lines.length);
  }
  return headers;
}

/**
 * The b64_json response as bytes, without JSON.stringify walking (and escaping, and UTF-8 encoding) a
 * ~350 KB string per image: the small JSON around the images is serialised with a random slot marker in
 * each `b64_json`, and the base64 text (only `A–Z a–z 0–9 + / =`, nothing to escape) is copied in between.
 */
export function openAIB64Body(result: GenerateAndStoreResult, images: readonly Uint8Array[]): Buffer {
  const nonce = uniqueToken();
  const marker = (i: number) => `pixel-b64-slot-${nonce}-${i}`;
  const json = JSON.stringify(
    openAIResponse(
      result,
      images.map((_, i) => ({ b64_json: marker(i) })),
    ),
  );
  const pieces: Array<string | Uint8Array> = [];
  let from = 0;
  images.forEach((bytes, i) => {
    const quoted = `"${marker(i)}"`;
    const at = json.indexOf(quoted, from);
    if (at < 0) throw new PixelError({ code: 'internal', message: `b64_json slot ${i} is missing` });
    pieces.push(`${json.slice(from, at)}"`, bytes, '"');
    from = at + quoted.length;
  });
  pieces.push(json.slice(from));
  const size = pieces.reduce(
    (n, p) => n + (typeof p === 'string' ? Buffer.byteLength(p, 'utf8') : base64Length(p.byteLength)),
    0,
  );
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const piece of pieces) {
    at += typeof piece === 'string' ? out.write(piece, at, 'utf8') : writeBase64(out, at, piece);
  }
  return out;
}

const base64Length = (bytes: number) => Math.ceil(bytes / 3) * 4;

/** Bytes encoded per slice: a multiple of 3, so slices concatenate into one valid base64 text. */
const SLICE_BYTES = 48 * 1024;

/**
 * Writes `bytes` as base64 into `out` slice by slice: one ~350 KB string per image would land in V8's
 * large-object space and bring on a full mark-compact every few requests; 64 KB slices die young.
 */
function writeBase64(out: Buffer, offset: number, bytes: Uint8Array): number {
  const source = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = offset;
  for (let i = 0; i < source.length; i += SLICE_BYTES) {
    at += out.write(source.toString('base64', i, Math.min(source.length, i + SLICE_BYTES)), at, 'latin1');
  }
  return at - offset;
}
