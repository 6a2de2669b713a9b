import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { z } from 'zod';
import {
  credentialsSeen,
  delay,
  FakeState,
  type ParsedRequest,
  sendBytes,
  sendJson,
} from '../testing/fake-http.ts';
import { fakeImage } from '../testing/fake-image.ts';
import type { FakeServer, Fault } from '../testing/types.ts';
import { SDXL_V1_DIMENSIONS, V1RequestSchema, V2BETA_FORM_SCHEMAS, type V2betaEndpoint } from './wire.ts';

/**
 * A local stand-in for api.stability.ai: v2beta ultra/core/sd3 (multipart, `Accept: image/*` or JSON)
 * and v1 SDXL text-to-image, with the real error bodies. A prompt containing `contentFilterWord`
 * comes back with finish reason CONTENT_FILTERED, as the real policy filter does.
 */
export interface StabilityFakeOptions {
  apiKey?: string;
  contentFilterWord?: string;
}

/** Pixels per aspect ratio (about one megapixel, multiples of 64). */
export const V2BETA_RATIO_PIXELS: Record<string, [number, number]> = {
  '1:1': [1024, 1024],
  '16:9': [1344, 768],
  '21:9': [1536, 640],
  '2:3': [832, 1216],
  '3:2': [1216, 832],
  '4:5': [896, 1088],
  '5:4': [1088, 896],
  '9:16': [768, 1344],
  '9:21': [640, 1536],
};

const V1_ENGINES = new Set(['stable-diffusion-xl-1024-v1-0', 'stable-diffusion-v1-6']);
const V2_PATH = /^\/v2beta\/stable-image\/generate\/(ultra|core|sd3)$/;
const V1_PATH = /^\/v1\/generation\/([^/]+)\/text-to-image$/;

type Api = 'v1' | 'v2beta';

export async function startStabilityFake(options: StabilityFakeOptions = {}): Promise<FakeServer> {
  const apiKey = options.apiKey ?? 'sk-fake-stability-key';
  const filterWord = (options.contentFilterWord ?? 'nsfw-test').toLowerCase();
  const state = new FakeState();
  const { requests, faults } = state;
  let seedCounter = 1000;

  /** The two API generations word the same error differently: `errors[]` (v2beta) vs `message` (v1). */
  function sendError(
    res: ServerResponse,
    api: Api,
    status: number,
    name: string,
    text: string,
    headers = {},
  ) {
    const id = randomUUID().replaceAll('-', '');
    const body = api === 'v2beta' ? { id, name, errors: [text] } : { id, name, message: text };
    sendJson(res, status, body, { 'x-request-id': id, ...headers });
  }

  async function handle(request: ParsedRequest, res: ServerResponse): Promise<void> {
    const path = request.url.pathname;
    const v2 = V2_PATH.exec(path);
    const v1 = V1_PATH.exec(path);
    const api: Api = v1 ? 'v1' : 'v2beta';
    let fields: Record<string, unknown> | undefined;
    if (v2 && request.method === 'POST') fields = await parseMultipart(request);
    requests.push({
      method: request.method,
      path: path + request.url.search,
      headers: request.headers,
      body: fields ?? request.body,
    });
    if (request.headers.authorization !== `Bearer ${apiKey}`)
      return sendError(res, api, 401, 'unauthorized', 'authorization: invalid or missing API key');
    if (request.method !== 'POST' || (!v2 && !v1))
      return sendError(res, api, 404, 'not_found', `no route for ${request.method} ${path}`);

    const fault = faults.take();
    if (fault?.kind === 'echo_credential') {
      const seen = credentialsSeen(request.headers);
      return fault.status === 401
        ? sendError(res, api, 401, 'unauthorized', `authorization: invalid API key (${seen})`)
        : sendError(res, api, 500, 'internal_error', `An unexpected server error occurred (${seen})`);
    }
    if (fault && (await applyFault(res, api, fault))) return;

    if (v2) return v2beta(res, v2[1] as V2betaEndpoint, request, fields);
    return v1Generate(res, decodeURIComponent(v1![1]!), request, fault?.kind === 'moderation');
  }

  /** Returns true when the fault answered the request. */
  async function applyFault(res: ServerResponse, api: Api, fault: Fault): Promise<boolean> {
    switch (fault.kind) {
      case 'echo_credential':
        return false; // answered before the fault switch, where the request is at hand
      case 'rate_limit':
        sendError(
          res,
          api,
          429,
          'rate_limit_exceeded',
          'You have exceeded the rate limit of 150 requests within a 10 second period.',
          { 'retry-after': String(fault.retryAfterMs / 1000) },
        );
        return true;
      case 'server_error':
        sendError(
          res,
          api,
          fault.status,
          fault.status === 500 ? 'internal_error' : 'service_unavailable',
          'An unexpected server error occurred, please try again.',
        );
        return true;
      case 'invalid':
        sendError(res, api, 400, 'bad_request', 'prompt: the prompt was rejected as invalid');
        return true;
      case 'moderation':
        if (api === 'v1') return false; // v1 reports moderation per artifact (handled in v1Generate)
        sendError(
          res,
          api,
          403,
          'content_moderation',
          'Your request was flagged by our content moderation system, as a result your request was denied and you were not charged.',
        );
        return true;
      case 'malformed':
        sendMalformed(res, api, fault.variant);
        return true;
      case 'slow':
        await delay(fault.delayMs, res);
        return false;
      case 'stuck':
        // A sync API that never answers: hold the request until the client gives up.
        await new Promise<void>((resolve) => res.on('close', resolve));
        return true;
    }
  }

  function sendMalformed(
    res: ServerResponse,
    api: Api,
    variant: Extract<Fault, { kind: 'malformed' }>['variant'],
  ) {
    if (variant === 'missing_fields')
      return sendJson(res, 200, api === 'v1' ? { result: 'success' } : { finish_reason: 'SUCCESS', seed: 1 });
    if (variant === 'not_image') {
      if (api === 'v1')
        return sendJson(res, 200, {
          artifacts: [
            {
              base64: Buffer.from('definitely not an image').toString('base64'),
              seed: 1,
              finishReason: 'SUCCESS',
            },
          ],
        });
      return sendBytes(res, 200, Buffer.from('definitely not an image'), 'image/png', {
        'finish-reason': 'SUCCESS',
        seed: '1',
      });
    }
    if (variant === 'wrong_content_type')
      return sendBytes(res, 200, Buffer.from('<html><body>Bad gateway</body></html>'), 'text/html');
    if (api === 'v1') return sendJson(res, 200, { artifacts: [] });
    return sendBytes(res, 200, new Uint8Array(0), 'image/png', { 'finish-reason': 'SUCCESS', seed: '1' });
  }

  function chooseSeed(seed: number | undefined): number {
    if (seed !== undefined && seed !== 0) return seed;
    seedCounter += 7919;
    return seedCounter;
  }

  async function v2beta(
    res: ServerResponse,
    endpoint: V2betaEndpoint,
    request: ParsedRequest,
    fields: Record<string, unknown> | undefined,
  ): Promise<void> {
    if (!fields)
      return sendError(res, 'v2beta', 400, 'bad_request', 'content-type: must be multipart/form-data');
    const accept = request.headers.accept ?? 'image/*';
    const wantsJson = accept.includes('application/json');
    if (!wantsJson && !accept.includes('image/') && !accept.includes('*/*'))
      return sendError(res, 'v2beta', 400, 'bad_request', 'accept: must be image/* or application/json');
    const schema = V2BETA_FORM_SCHEMAS[endpoint] as z.ZodType<Record<string, unknown>>;
    const parsed = schema.safeParse(fields);
    if (!parsed.success) return sendError(res, 'v2beta', 400, 'bad_request', describe(parsed.error));
    const body = parsed.data as {
      prompt: string;
      aspect_ratio?: string;
      seed?: number;
      output_format?: string;
    };
    const [width, height] = V2BETA_RATIO_PIXELS[body.aspect_ratio ?? '1:1']!;
    const seed = chooseSeed(body.seed);
    const format = (body.output_format ?? 'png') as 'png' | 'jpeg' | 'webp';
    const image = await fakeImage({ prompt: body.prompt, width, height, seed, format });
    const finish = body.prompt.toLowerCase().includes(filterWord) ? 'CONTENT_FILTERED' : 'SUCCESS';
    const requestId = randomUUID().replaceAll('-', '');
    if (wantsJson) {
      const json = JSON.stringify({
        image: Buffer.from(image.bytes).toString('base64'),
        finish_reason: finish,
        seed,
      });
      return sendBytes(res, 200, Buffer.from(json), `application/json; type=${image.mediaType}`, {
        'x-request-id': requestId,
      });
    }
    sendBytes(res, 200, image.bytes, image.mediaType, {
      'finish-reason': finish,
      seed: String(seed),
      'x-request-id': requestId,
    });
  }

  async function v1Generate(
    res: ServerResponse,
    engine: string,
    request: ParsedRequest,
    moderate: boolean,
  ): Promise<void> {
    if (!V1_ENGINES.has(engine)) return sendError(res, 'v1', 404, 'not_found', `engine ${engine} not found`);
    const parsed = V1RequestSchema.safeParse(request.body);
    if (!parsed.success) return sendError(res, 'v1', 400, 'bad_request', describe(parsed.error));
    const body = parsed.data;
    const width = body.width ?? 512;
    const height = body.height ?? 512;
    if (engine.includes('xl') && !SDXL_V1_DIMENSIONS.some(([w, h]) => w === width && h === height))
      return sendError(
        res,
        'v1',
        400,
        'invalid_sdxl_v1_dimensions',
        `${width}x${height} is not a valid SDXL v1 size; allowed: ${SDXL_V1_DIMENSIONS.map(([w, h]) => `${w}x${h}`).join(', ')}`,
      );
    const samples = body.samples ?? 1;
    const accept = request.headers.accept ?? 'application/json';
    if (samples > 1 && !accept.includes('application/json'))
      return sendError(res, 'v1', 400, 'invalid_samples', 'samples > 1 requires Accept: application/json');
    const prompt = body.text_prompts
      .filter((p) => (p.weight ?? 1) >= 0)
      .map((p) => p.text)
      .join(' ');
    const filtered = prompt.toLowerCase().includes(filterWord) || moderate;
    const base = chooseSeed(body.seed);
    const artifacts = [];
    for (let i = 0; i < samples; i++) {
      const seed = (base + i) % 4_294_967_296;
      const image = await fakeImage({ prompt, width, height, seed, format: 'png' });
      artifacts.push({
        base64: Buffer.from(image.bytes).toString('base64'),
        seed,
        finishReason: filtered ? 'CONTENT_FILTERED' : 'SUCCESS',
      });
    }
    sendJson(res, 200, { artifacts }, { 'x-request-id': randomUUID().replaceAll('-', '') });
  }

  // Multipart bodies are recorded as parsed fields, so `handle` records the request itself.
  const server = await state.serve(
    handle,
    (res, error) => sendJson(res, 500, { id: 'fake', name: 'internal_error', errors: [String(error)] }),
    { record: false },
  );
  return state.fake(server, apiKey);
}

/** Multipart → plain fields (files recorded by name and size), via the platform's own form parser. */
async function parseMultipart(request: ParsedRequest): Promise<Record<string, unknown> | undefined> {
  const type = request.headers['content-type'] ?? '';
  if (!type.startsWith('multipart/form-data')) return undefined;
  try {
    const form = await new Request('http://fake/', {
      method: 'POST',
      headers: { 'content-type': type },
      body: new Uint8Array(request.raw),
    }).formData();
    const fields: Record<string, unknown> = {};
    for (const [key, value] of form.entries())
      fields[key] = typeof value === 'string' ? value : `[file ${value.size} bytes]`;
    return fields;
  } catch {
    return undefined;
  }
}

function describe(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; ');
}
