// Native fetch adapter: no Vercel AI SDK provider package covers Stability AI's REST API.
import { PixelError } from '../../protocol/errors.ts';
import {
  checkImage,
  classifyHttpFailure,
  decodeBase64Image,
  malformed,
  networkFailure,
  parseRetryAfter,
  parseWaitFromMessage,
  readJson,
} from '../common/http.ts';
import type { ProviderAdapter, ProviderCall, ProviderImage, ProviderResult } from '../types.ts';
import {
  V1ErrorSchema,
  V1ResponseSchema,
  V2BETA_ENDPOINTS,
  type V2betaEndpoint,
  V2betaErrorSchema,
  V2betaJsonResponseSchema,
} from './wire.ts';

const PROVIDER = 'stability';

export interface StabilityAdapterConfig {
  apiKey: string;
  /** `https://api.stability.ai` in production. */
  baseURL: string;
  fetch?: typeof fetch;
  /** v2beta answer shape: raw bytes (`Accept: image/*`, the default) or base64 JSON. */
  output?: 'image' | 'json';
  /** Optional `stability-client-id` header. */
  clientId?: string;
}

export function createStabilityAdapter(config: StabilityAdapterConfig): ProviderAdapter {
  const doFetch = config.fetch ?? fetch;
  const baseURL = config.baseURL.replace(/\/+$/, '');
  const output = config.output ?? 'image';

  async function send(url: string, init: RequestInit, signal?: AbortSignal): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${config.apiKey}`);
    if (config.clientId) headers.set('stability-client-id', config.clientId.slice(0, 256));
    try {
      return await doFetch(url, { ...init, headers, signal });
    } catch (error) {
      throw networkFailure(PROVIDER, error, signal);
    }
  }

  async function v2beta(
    call: ProviderCall,
    endpoint: V2betaEndpoint,
  ): Promise<{ image: ProviderImage; requestId?: string }> {
    const form = toFormData(call.body);
    const accept = output === 'json' ? 'application/json' : 'image/*';
    const url = `${baseURL}/v2beta/stable-image/generate/${endpoint}`;
    const response = await send(url, { method: 'POST', body: form, headers: { accept } }, call.signal);
    const requestId = response.headers.get('x-request-id') ?? undefined;
    if (!response.ok) throw await failure(response, 'v2beta');
    const contentType = response.headers.get('content-type') ?? '';
    let bytes: Uint8Array;
    let finishReason: string | null;
    let seedText: string | number | null | undefined;
    if (output === 'json') {
      if (!contentType.startsWith('application/json'))
        throw malformed(PROVIDER, `answered with content type ${contentType || 'none'}, expected JSON`);
      const parsed = V2betaJsonResponseSchema.safeParse(await readJson(PROVIDER, response));
      if (!parsed.success)
        throw malformed(PROVIDER, `JSON response is missing fields: ${parsed.error.message}`);
      bytes = decodeBase64Image(PROVIDER, parsed.data.image, 'image');
      finishReason = parsed.data.finish_reason;
      seedText = parsed.data.seed;
    } else {
      if (!contentType.startsWith('image/'))
        throw malformed(PROVIDER, `answered with content type ${contentType || 'none'}, expected an image`);
      bytes = new Uint8Array(await readBody(response, call.signal));
      finishReason = response.headers.get('finish-reason');
      seedText = response.headers.get('seed');
    }
    checkFinishReason(finishReason, requestId);
    const image = await checkImage(PROVIDER, bytes, contentType);
    const seed = parseSeed(seedText);
    return { image: seed === undefined ? image : { ...image, seed }, ...(requestId ? { requestId } : {}) };
  }

  async function v1(call: ProviderCall): Promise<ProviderResult> {
    const engine = encodeURIComponent(call.model.providerModelId);
    const url = `${baseURL}/v1/generation/${engine}/text-to-image`;
    const init: RequestInit = {
      method: 'POST',
      body: JSON.stringify(call.body),
      headers: { 'content-type': 'application/json', accept: 'application/json' },
    };
    const response = await send(url, init, call.signal);
    const requestId = response.headers.get('x-request-id') ?? undefined;
    if (!response.ok) throw await failure(response, 'v1');
    const parsed = V1ResponseSchema.safeParse(await readJson(PROVIDER, response));
    if (!parsed.success) throw malformed(PROVIDER, `v1 response is missing fields: ${parsed.error.message}`);
    const { artifacts } = parsed.data;
    if (artifacts.length === 0) throw malformed(PROVIDER, 'returned no artifacts');
    if (artifacts.length < call.count)
      throw malformed(PROVIDER, `returned ${artifacts.length} artifacts, ${call.count} requested`);
    const images: ProviderImage[] = [];
    for (const [index, artifact] of artifacts.entries()) {
      checkFinishReason(artifact.finishReason, requestId, index);
      const bytes = decodeBase64Image(PROVIDER, artifact.base64, `artifacts[${index}].base64`);
      images.push({ ...(await checkImage(PROVIDER, bytes)), seed: artifact.seed });
    }
    return requestId === undefined ? { images } : { images, requestId };
  }

  return {
    name: PROVIDER,
    async generate(call: ProviderCall): Promise<ProviderResult> {
      if (call.model.transport === 'stability-v1') return v1(call);
      const endpoint = endpointFor(call.model.providerModelId);
      // v2beta makes one image per request; a call for several images repeats the request
      // (the reliability layer normally splits n by the catalogue's imagesPerCall = 1).
      const images: ProviderImage[] = [];
      const requestIds: string[] = [];
      const count = Math.max(1, Math.min(call.count, 10));
      for (let i = 0; i < count; i++) {
        const one = await v2beta(call, endpoint);
        images.push(one.image);
        if (one.requestId) requestIds.push(one.requestId);
      }
      return requestIds.length > 0 ? { images, requestId: requestIds.join(',') } : { images };
    },
  };
}

/** `stable-image-ultra` → ultra, `stable-image-core` → core, `sd3.5-large` → sd3. */
export function endpointFor(providerModelId: string): V2betaEndpoint {
  const id = providerModelId.toLowerCase();
  if ((V2BETA_ENDPOINTS as readonly string[]).includes(id)) return id as V2betaEndpoint;
  if (id.includes('ultra')) return 'ultra';
  if (id.includes('core')) return 'core';
  if (id.startsWith('sd3')) return 'sd3';
  throw new PixelError({
    code: 'invalid_argument',
    field: 'model',
    reason: 'unknown_model',
    provider: PROVIDER,
    message: `stability has no v2beta endpoint for model ${providerModelId}`,
  });
}

/** Plain form fields → multipart body; binary fields (image-to-image `image`) become blobs. */
function toFormData(body: Record<string, unknown>): FormData {
  const form = new FormData();
  for (const [key, value] of Object.entries(body)) {
    if (value === undefined || value === null) continue;
    if (value instanceof Blob) form.append(key, value);
    else if (value instanceof Uint8Array) form.append(key, new Blob([new Uint8Array(value)]), key);
    else if (typeof value === 'object') form.append(key, JSON.stringify(value));
    else form.append(key, String(value));
  }
  return form;
}

async function readBody(response: Response, signal?: AbortSignal): Promise<ArrayBuffer> {
  try {
    return await response.arrayBuffer();
  } catch (error) {
    throw networkFailure(PROVIDER, error, signal);
  }
}

/** CONTENT_FILTERED means the image was generated but blurred by the policy filter: a refusal for us. */
function checkFinishReason(reason: string | null, requestId?: string, index?: number): void {
  if (reason === null || reason === 'SUCCESS') return;
  const which = index === undefined ? '' : ` (artifact ${index})`;
  if (reason === 'CONTENT_FILTERED') {
    throw new PixelError({
      code: 'permission_denied',
      reason: 'content_moderated',
      retryable: false,
      provider: PROVIDER,
      providerRequestId: requestId,
      message: `stability refused the content: finish reason CONTENT_FILTERED${which}`,
    });
  }
  if (reason === 'ERROR') {
    throw new PixelError({
      code: 'unavailable',
      reason: 'provider_error',
      retryable: true,
      provider: PROVIDER,
      providerRequestId: requestId,
      message: `stability finished with reason ERROR${which}`,
    });
  }
  throw malformed(PROVIDER, `returned an unknown finish reason ${reason}${which}`);
}

function parseSeed(value: string | number | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const seed = Number(value);
  return Number.isInteger(seed) && seed >= 0 ? seed : undefined;
}

async function failure(response: Response, api: 'v1' | 'v2beta'): Promise<PixelError> {
  const text = await response.text().catch(() => '');
  let name: string | undefined;
  let message = text.slice(0, 500);
  let bodyId: string | undefined;
  try {
    const json: unknown = JSON.parse(text);
    const v2 = V2betaErrorSchema.safeParse(json);
    const v1 = V1ErrorSchema.safeParse(json);
    if (api === 'v2beta' && v2.success) {
      [name, bodyId] = [v2.data.name, v2.data.id];
      message = `${v2.data.name}: ${v2.data.errors.join('; ')}`;
    } else if (v1.success) {
      [name, bodyId] = [v1.data.name, v1.data.id];
      message = `${v1.data.name}: ${v1.data.message}`;
    } else if (v2.success) {
      [name, bodyId] = [v2.data.name, v2.data.id];
      message = `${v2.data.name}: ${v2.data.errors.join('; ')}`;
    }
  } catch {
    // Not JSON (a proxy's HTML page): keep the text.
  }
  const moderated = response.status === 403 && name === 'content_moderation';
  const requestId = response.headers.get('x-request-id') ?? bodyId;
  return classifyHttpFailure({
    provider: PROVIDER,
    status: response.status,
    headers: response.headers,
    message,
    moderated,
    ...(requestId === undefined ? {} : { requestId }),
    // Stability documents no Retry-After; use the header when present, else a wait named in the message.
    ...(response.status === 429 && parseRetryAfter(response.headers) === undefined ? waitFrom(message) : {}),
  });
}

function waitFrom(message: string): { retryAfterMs?: number } {
  const ms = parseWaitFromMessage(message);
  return ms === undefined ? {} : { retryAfterMs: ms };
}
