// A direct HTTP call, not @ai-sdk/openai: its image model rebuilds the body from its own fixed field list
// (the translated native body could not pass through unchanged, e.g. `partial_images`, `response_format`
// for GPT image models) and has no `url` output path; a direct call also keeps the overhead floor.
// JSON calls go through node:http (common/http-client.ts) unless a `fetch` is configured; multipart
// edits and streamed calls (Server-Sent Events, read as they arrive) go through fetch.
import { PixelError } from '../../protocol/errors.ts';
import {
  checkImage,
  classifyHttpFailure,
  decodeBase64Image,
  malformed,
  networkFailure,
  parseRetryAfter,
  parseWaitFromMessage,
} from '../common/http.ts';
import { postRaw, type RawResponse } from '../common/http-client.ts';
import { type LiftedJson, parseJsonLiftingBase64 } from '../common/json-lift.ts';
import type { ProviderAdapter, ProviderCall, ProviderImage, ProviderResult } from '../types.ts';
import { readImageStream } from './stream.ts';
import { ErrorResponseSchema, type ImagesResponse, ImagesResponseSchema, MODERATION_CODES } from './wire.ts';

export interface OpenAIAdapterConfig {
  apiKey: string;
  /** Includes the version path, like the SDK's `OPENAI_BASE_URL` (default `https://api.openai.com/v1`). */
  baseURL: string;
  organization?: string;
  project?: string;
  fetch?: typeof fetch;
}

/** An input image for `/images/edits`: raw bytes, or base64 / a data URL. */
export type EditImage = Uint8Array | string;

export interface OpenAIEditCall extends ProviderCall {
  images: EditImage[];
  /** PNG, same size as the first image; transparent pixels mark the area to edit. */
  mask?: EditImage;
}

export interface OpenAIAdapter extends ProviderAdapter {
  /** `/images/edits` with reference images (and an optional mask); `call.body` holds the other form fields. */
  edit(call: OpenAIEditCall): Promise<ProviderResult>;
}

const PROVIDER = 'openai';
/** OpenAI sends at most 3 partial images per image. */
const MAX_PARTIAL_IMAGES = 3;

/**
 * `generate(call)` posts `call.body` to `/images/generations` as JSON. When `call.body.image` is
 * present (one `EditImage` or a list; optional `call.body.mask`) the call goes to `/images/edits` as
 * multipart instead, so edits also travel through the reliability wrapper. When the call asks for
 * partial images (`call.partialImages`, GPT image models) it is sent with `stream: true` and
 * `partial_images`, and each partial image reaches `call.onProgress` as OpenAI streams it.
 */
export function createOpenAIAdapter(config: OpenAIAdapterConfig): OpenAIAdapter {
  const doFetch = config.fetch ?? fetch;
  const base = config.baseURL.replace(/\/+$/, '');
  const authHeaders: Record<string, string> = { authorization: `Bearer ${config.apiKey}` };
  if (config.organization) authHeaders['openai-organization'] = config.organization;
  if (config.project) authHeaders['openai-project'] = config.project;

  async function post(call: ProviderCall, path: string, body: string | FormData): Promise<ProviderResult> {
    if (call.signal?.aborted) throw networkFailure(PROVIDER, call.signal.reason, call.signal);
    const url = `${base}${path}`;
    let response: RawResponse;
    try {
      if (typeof body === 'string' && !config.fetch) {
        response = await postRaw(url, {
          headers: { ...authHeaders, 'content-type': 'application/json', accept: 'application/json' },
          body,
          signal: call.signal,
        });
      } else {
        const headers =
          typeof body === 'string' ? { ...authHeaders, 'content-type': 'application/json' } : authHeaders;
        const res = await doFetch(url, { method: 'POST', headers, body, signal: call.signal });
        response = { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
      }
    } catch (error) {
      throw networkFailure(PROVIDER, error, call.signal);
    }
    const requestId = response.headers.get('x-request-id') ?? undefined;
    if (response.status < 200 || response.status > 299) throw failure(response, requestId);
    const type = response.headers.get('content-type') ?? '';
    if (!type.includes('application/json')) {
      throw malformed(PROVIDER, `answered with content type "${type || 'none'}" instead of JSON`);
    }
    let payload: LiftedJson;
    try {
      // The base64 images are decoded straight from the response bytes (see json-lift.ts).
      payload = parseJsonLiftingBase64(response.body, 'b64_json');
    } catch {
      throw malformed(
        PROVIDER,
        `returned a body that is not JSON (HTTP ${response.status}, ${response.body.toString('utf8', 0, 80)})`,
      );
    }
    const parsed = ImagesResponseSchema.safeParse(payload.value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw malformed(
        PROVIDER,
        `response is not an ImagesResponse (${issue?.path.join('.') || '?'}: ${issue?.message})`,
      );
    }
    return toResult(parsed.data, requestId, call, payload.bytes);
  }

  /** A streamed call: the answer is Server-Sent Events, unless OpenAI refused it up front (plain JSON error). */
  async function postStream(
    call: ProviderCall,
    path: string,
    body: string | FormData,
  ): Promise<ProviderResult> {
    if (call.signal?.aborted) throw networkFailure(PROVIDER, call.signal.reason, call.signal);
    const headers: Record<string, string> = { ...authHeaders, accept: 'text/event-stream' };
    if (typeof body === 'string') headers['content-type'] = 'application/json';
    try {
      const res = await doFetch(`${base}${path}`, { method: 'POST', headers, body, signal: call.signal });
      const requestId = res.headers.get('x-request-id') ?? undefined;
      if (!res.ok) {
        const raw = { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
        throw failure(raw, requestId);
      }
      const type = res.headers.get('content-type') ?? '';
      if (!type.includes('text/event-stream') || !res.body) {
        throw malformed(PROVIDER, `answered a stream with content type "${type || 'none'}"`);
      }
      const outcome = await readImageStream(res.body, call, requestId);
      if (outcome.ok) return outcome.result;
      const text = Buffer.from(JSON.stringify({ error: outcome.error }));
      throw failure({ status: outcome.status, headers: res.headers, body: text }, requestId);
    } catch (error) {
      if (PixelError.isInstance(error)) throw error;
      throw networkFailure(PROVIDER, error, call.signal);
    }
  }

  /** The partial images to ask OpenAI for (0: a plain JSON call). */
  const partialsOf = (call: ProviderCall) =>
    Math.min(MAX_PARTIAL_IMAGES, Math.max(0, call.partialImages ?? 0));

  async function toResult(
    data: ImagesResponse,
    requestId: string | undefined,
    call: ProviderCall,
    lifted: LiftedJson['bytes'],
  ) {
    if (data.data.length === 0) throw malformed(PROVIDER, 'returned an empty image list');
    if (data.data.length < call.count) {
      throw malformed(PROVIDER, `returned ${data.data.length} images, ${call.count} were asked for`);
    }
    const declared = data.output_format ? `image/${data.output_format}` : undefined;
    const images: ProviderImage[] = await Promise.all(
      data.data.map(async (item, i) => {
        const bytes = item.b64_json
          ? (lifted(item.b64_json) ?? decodeBase64Image(PROVIDER, item.b64_json, `data[${i}].b64_json`))
          : item.url
            ? await download(item.url, call.signal)
            : undefined;
        if (!bytes) throw malformed(PROVIDER, `data[${i}] has neither b64_json nor url`);
        return checkImage(PROVIDER, bytes, declared);
      }),
    );
    const usage: Record<string, unknown> = { ...(data.usage ?? {}) };
    for (const key of ['quality', 'size', 'output_format', 'background'] as const) {
      if (data[key] !== undefined) usage[key] = data[key];
    }
    const notes = data.data.flatMap((d) => (d.revised_prompt ? [`revised prompt: ${d.revised_prompt}`] : []));
    const result: ProviderResult = { images, requestId };
    if (Object.keys(usage).length > 0) result.usage = usage;
    if (notes.length > 0) result.notes = notes;
    return result;
  }

  /** DALL·E `url` outputs (valid 60 min) are fetched at once. */
  async function download(url: string, signal?: AbortSignal): Promise<Uint8Array> {
    let response: Response;
    try {
      response = await doFetch(url, { signal });
      if (!response.ok) throw malformed(PROVIDER, `image URL answered HTTP ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      throw networkFailure(PROVIDER, error, signal);
    }
  }

  function generate(call: ProviderCall): Promise<ProviderResult> {
    const { image, mask, ...fields } = call.body;
    if (image !== undefined) {
      const images = Array.isArray(image) ? image : [image];
      return edit({
        ...call,
        body: fields,
        images: images as EditImage[],
        mask: mask as EditImage | undefined,
      });
    }
    const partials = partialsOf(call);
    if (partials > 0 || call.body.stream === true) {
      const body = { ...call.body, stream: true, ...(partials > 0 && { partial_images: partials }) };
      return postStream(call, '/images/generations', JSON.stringify(body));
    }
    return post(call, '/images/generations', JSON.stringify(call.body));
  }

  function edit(call: OpenAIEditCall): Promise<ProviderResult> {
    if (call.images.length === 0) {
      return Promise.reject(
        new PixelError({
          code: 'invalid_argument',
          field: 'image',
          message: 'an edit needs at least one image',
        }),
      );
    }
    const form = new FormData();
    for (const [key, value] of Object.entries(call.body)) {
      if (value === undefined || value === null) continue;
      form.append(key, typeof value === 'object' ? JSON.stringify(value) : String(value));
    }
    // Several images go as repeated `image[]` parts (the openai SDK's convention); one as `image`.
    const imageField = call.images.length > 1 ? 'image[]' : 'image';
    for (const [i, img] of call.images.entries()) {
      form.append(imageField, toBlob(img), `image-${i}.${extension(img)}`);
    }
    if (call.mask !== undefined) form.append('mask', toBlob(call.mask), 'mask.png');
    const partials = partialsOf(call);
    if (partials > 0 || call.body.stream === true || call.body.stream === 'true') {
      form.set('stream', 'true');
      if (partials > 0) form.set('partial_images', String(partials));
      return postStream(call, '/images/edits', form);
    }
    return post(call, '/images/edits', form);
  }

  return { name: PROVIDER, generate, edit };
}

function failure(response: RawResponse, requestId: string | undefined): PixelError {
  const text = response.body.toString('utf8');
  let body: ReturnType<typeof ErrorResponseSchema.parse>['error'] | undefined;
  try {
    const parsed = ErrorResponseSchema.safeParse(JSON.parse(text));
    if (parsed.success) body = parsed.data.error;
  } catch {
    // not JSON: the status and raw text still classify it
  }
  const message = body?.message ?? (text.slice(0, 200) || `HTTP ${response.status}`);
  const code = body?.code ?? undefined;
  if (response.status === 429 && code === 'insufficient_quota') {
    // Out of credit: waiting will not help, so not retryable.
    return new PixelError({
      code: 'resource_exhausted',
      reason: 'insufficient_quota',
      retryable: false,
      provider: PROVIDER,
      providerStatus: 429,
      providerRequestId: requestId,
      message: `openai 429: ${message}`,
    });
  }
  const error = classifyHttpFailure({
    provider: PROVIDER,
    status: response.status,
    headers: response.headers,
    message,
    requestId,
    moderated: code !== undefined && MODERATION_CODES.has(code),
    retryAfterMs: parseRetryAfter(response.headers) ?? parseWaitFromMessage(message),
  });
  if (!body?.param || error.code !== 'invalid_argument') return error;
  return new PixelError({
    code: error.code,
    reason: error.reason,
    retryable: error.retryable,
    provider: PROVIDER,
    providerStatus: error.providerStatus,
    providerRequestId: requestId,
    field: `providerOptions.openai.${body.param}`,
    message: error.message,
  });
}

function toBytes(image: EditImage): Uint8Array {
  if (typeof image !== 'string') return image;
  const data = image.startsWith('data:') ? image.slice(image.indexOf(',') + 1) : image;
  return new Uint8Array(Buffer.from(data, 'base64'));
}

function sniff(bytes: Uint8Array): 'png' | 'jpeg' | 'webp' {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpeg';
  if (bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[8] === 0x57 && bytes[9] === 0x45) return 'webp';
  return 'png';
}

function extension(image: EditImage): string {
  return sniff(toBytes(image)).replace('jpeg', 'jpg');
}

function toBlob(image: EditImage): Blob {
  const bytes = toBytes(image);
  return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: `image/${sniff(bytes)}` });
}
