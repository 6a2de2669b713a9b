import type { Catalog } from '../models/catalog.ts';
import { invalidArgument, PixelError } from '../protocol/errors.ts';
import { uniqueToken } from '../runtime/unique.ts';
import type { GenerateAndStoreResult } from './image-service.ts';

/**
 * The OpenAI Images API request shape → Pixel's unified request. Pure mapping, no I/O.
 *
 * - `model`: a Pixel id or alias; a bare OpenAI id (`gpt-image-1.5`) means `openai/<id>`; absent = default.
 * - `size`: `WxH` → width/height (exact fit), `auto` → the model's default.
 * - `quality`: low→draft, medium/standard→standard, high/hd→high, auto→the model's default.
 * - `output_format` → format; `background` as is; `moderation`, `output_compression`, `user` →
 *   `providerOptions.openai` (reported as dropped on other providers' models).
 * - `response_format`: `b64_json` (default, like GPT image models) or `url` (this server's `/files/…`
 *   or the bucket's URL).
 * - Pixel's own fields ride along in camelCase: negativePrompt, width, height, aspectRatio, fit, cfgScale,
 *   style, steps, seed, format, providerOptions, onUnsupported.
 */
export type ResponseFormat = 'b64_json' | 'url';

export interface MappedRequest {
  input: Record<string, unknown>;
  responseFormat: ResponseFormat;
}

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
]);
const PIXEL_FIELDS = new Set([
  'negativePrompt',
  'width',
  'height',
  'aspectRatio',
  'fit',
  'cfgScale',
  'style',
  'steps',
  'seed',
  'format',
  'providerOptions',
  'onUnsupported',
  'app',
  'vars',
  'appLabel',
  'appVersion',
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

export function mapOpenAIRequest(body: unknown, catalog: Catalog): MappedRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidArgument('(body)', 'the request body must be a JSON object');
  }
  const raw = body as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!OPENAI_FIELDS.has(key) && !PIXEL_FIELDS.has(key)) {
      throw invalidArgument(
        key,
        `unknown field "${key}" (OpenAI Images fields and Pixel's camelCase fields are accepted)`,
      );
    }
  }
  const input: Record<string, unknown> = {};
  for (const key of PIXEL_FIELDS) if (raw[key] !== undefined) input[key] = raw[key];
  // With an application, an empty or absent prompt means "render the application's template".
  if (!(raw.app !== undefined && (raw.prompt === '' || raw.prompt == null))) input.prompt = raw.prompt;
  if (raw.n !== undefined && raw.n !== null) input.n = raw.n;
  if (raw.model !== undefined && raw.model !== null) input.model = modelName(raw.model, catalog);

  if (raw.size !== undefined && raw.size !== null && raw.size !== 'auto') {
    const match = typeof raw.size === 'string' ? /^(\d{1,5})x(\d{1,5})$/.exec(raw.size) : null;
    if (!match) throw invalidArgument('size', 'must be "WIDTHxHEIGHT" (e.g. "1024x1024") or "auto"');
    if (raw.width !== undefined || raw.height !== undefined || raw.aspectRatio !== undefined) {
      throw invalidArgument('size', 'give either size or width/height/aspectRatio, not both');
    }
    input.width = Number(match[1]);
    input.height = Number(match[2]);
  }
  if (raw.quality !== undefined && raw.quality !== null) {
    if (typeof raw.quality !== 'string' || !(raw.quality in QUALITY)) {
      throw invalidArgument('quality', `must be one of ${Object.keys(QUALITY).join(', ')}`);
    }
    const quality = QUALITY[raw.quality];
    if (quality !== undefined) input.quality = quality;
  }
  if (raw.background !== undefined && raw.background !== null) input.background = raw.background;
  if (raw.output_format !== undefined && raw.output_format !== null) {
    if (raw.format !== undefined && raw.format !== raw.output_format) {
      throw invalidArgument('output_format', 'conflicts with format; give one of them');
    }
    input.format = raw.output_format;
  }
  const openaiOptions: Record<string, unknown> = {};
  for (const key of ['moderation', 'output_compression', 'user'] as const) {
    if (raw[key] !== undefined && raw[key] !== null) openaiOptions[key] = raw[key];
  }
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
  return { input, responseFormat: format };
}

/** A bare OpenAI model id means the OpenAI model of that name, so unchanged OpenAI code keeps working. */
function modelName(model: unknown, catalog: Catalog): unknown {
  if (typeof model !== 'string' || model.includes('/')) return model;
  if (catalog.get(model) || catalog.aliases().some((a) => a.alias === model)) return model;
  return catalog.get(`openai/${model}`) ? `openai/${model}` : model;
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
    pixel: {
      images: result.images.map((i) => i.id),
      model: result.model,
      route: result.route,
      report: result.report,
      seeds: result.images.map((i) => i.seed),
      costEstimateUsd: result.costEstimateUsd,
      notes: result.notes,
      replayed: result.replayed,
    },
  };
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
