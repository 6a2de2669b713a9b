import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { credentialsSeen, sendJson } from '../testing/fake-http.ts';
import { type FakeImageRequest, fakeImage } from '../testing/fake-image.ts';
import type { FakeServer, Fault, RecordedRequest } from '../testing/types.ts';
import { BATCH_INTERNAL_HEADER, createFakeBatchApi, type FakeBatchControl } from './fake-batches.ts';
import {
  DALLE2_SIZES,
  DALLE3_SIZES,
  EditFieldsSchema,
  GenerationRequestSchema,
  GPT_IMAGE_SIZES,
  isGptImageModel,
} from './wire.ts';

export interface OpenAIFakeOptions {
  apiKey?: string;
}

/** A failure after a stream opened: the next streamed request sends an `error` event after `afterPartials` partials. */
export interface StreamFault {
  afterPartials: number;
  kind: 'server_error' | 'moderation';
}

export interface OpenAIFakeControl {
  batches: FakeBatchControl;
  /** The next streamed request fails mid-stream (after the given partial images) with an `error` event. */
  failStream(fault: StreamFault): void;
}

/** Models the fake knows, as the 2026 API lists them. */
const MODELS = new Set([
  'gpt-image-2',
  'gpt-image-1.5',
  'gpt-image-1',
  'gpt-image-1-mini',
  'dall-e-3',
  'dall-e-2',
]);

interface ApiError {
  status: number;
  message: string;
  type: string;
  param?: string | null;
  code?: string | null;
  headers?: Record<string, string>;
}

class Reject extends Error {
  readonly error: ApiError;
  constructor(error: ApiError) {
    super(error.message);
    this.error = error;
  }
}

const invalid = (message: string, param: string | null, code: string | null = 'invalid_value') =>
  new Reject({ status: 400, type: 'invalid_request_error', message, param, code });

/**
 * A local stand-in for `api.openai.com/v1` images: same paths, Bearer auth, strict field
 * validation with the real error body `{ error: { message, type, param, code } }`, `x-request-id`,
 * rate-limit headers, and real images of the requested size as `b64_json` (or `url` for DALL·E).
 * `stream: true` (GPT image models) answers Server-Sent Events: `partial_images` partial images of the
 * first image, then one `…completed` event per image; a request refused up front is still plain JSON.
 */
export async function startOpenAIFake(
  options: OpenAIFakeOptions = {},
): Promise<FakeServer & OpenAIFakeControl> {
  const apiKey = options.apiKey ?? `sk-fake-${randomUUID().slice(0, 8)}`;
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  const files = new Map<string, Uint8Array>();
  const open = new Set<ServerResponse>();
  let streamFault: StreamFault | undefined;
  let base = '';
  // Files + Batch API: a batch's requests go through this fake's own generations endpoint.
  const batchApi = createFakeBatchApi(async (endpoint, body) => {
    const answer = await fetch(`${base}${endpoint}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json',
        [BATCH_INTERNAL_HEADER]: '1',
      },
      body: JSON.stringify(body),
    });
    return { status: answer.status, body: await answer.json() };
  });

  const server = createServer((req, res) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(error), type: 'server_error' } });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0]!;
    const contentType = req.headers['content-type'] ?? '';
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
      body: undefined,
    };
    requests.push(record);

    if (req.method === 'GET' && path.startsWith('/files/')) {
      const bytes = files.get(path.slice('/files/'.length));
      if (!bytes) {
        sendJson(res, 404, { error: { message: 'not found' } });
        return;
      }
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': bytes.byteLength });
      res.end(bytes);
      return;
    }
    const requestId = `req_${randomUUID().replaceAll('-', '')}`;
    const common = {
      'x-request-id': requestId,
      'openai-processing-ms': '12',
      'x-ratelimit-limit-requests': '50',
      'x-ratelimit-remaining-requests': '49',
      'x-ratelimit-reset-requests': '1.2s',
    };
    try {
      const auth = req.headers.authorization;
      if (!auth) {
        throw new Reject({
          status: 401,
          type: 'invalid_request_error',
          message:
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        });
      }
      if (auth !== `Bearer ${apiKey}`) {
        const given = auth.replace(/^Bearer\s+/i, '');
        throw new Reject({
          status: 401,
          type: 'invalid_request_error',
          code: 'invalid_api_key',
          message: `Incorrect API key provided: ${given.slice(0, 3)}***${given.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        });
      }
      if (path.startsWith('/v1/files') || path.startsWith('/v1/batches')) {
        await batchApi.handle(req, res, path, raw, common);
        return;
      }
      const isGeneration = req.method === 'POST' && path === '/v1/images/generations';
      const isEdit = req.method === 'POST' && path === '/v1/images/edits';
      if (!isGeneration && !isEdit) {
        throw new Reject({
          status: 404,
          type: 'invalid_request_error',
          message: `Invalid URL (${req.method} ${path})`,
        });
      }
      const parsed = isGeneration
        ? parseGeneration(raw, contentType, record)
        : await parseEdit(raw, contentType, record);

      const fault = takeFault();
      if (fault) {
        const handled = await applyFault(fault, parsed.model, req, res);
        if (handled) return;
      }
      const format = parsed.outputFormat;
      const images = await Promise.all(
        Array.from({ length: parsed.n }, (_, i) =>
          cachedImage({
            prompt: parsed.prompt,
            // OpenAI takes no seed: each image of a request differs, the same request repeats.
            seed: fnv1a(`${parsed.prompt}#${i}`),
            width: parsed.width,
            height: parsed.height,
            format,
            background: parsed.background === 'transparent' ? 'transparent' : 'opaque',
          }),
        ),
      );
      const gpt = isGptImageModel(parsed.model);
      if (parsed.stream) {
        const fault = streamFault;
        streamFault = undefined;
        await sendStream(
          res,
          isGeneration ? 'image_generation' : 'image_edit',
          parsed,
          images,
          common,
          fault,
        );
        return;
      }
      const data = images.map((bytes) => {
        if (!gpt && parsed.responseFormat !== 'b64_json') {
          const id = randomUUID();
          files.set(id, bytes);
          return { url: `${base}/files/${id}` };
        }
        return { b64_json: Buffer.from(bytes).toString('base64') };
      });
      const body: Record<string, unknown> = { created: Math.floor(Date.now() / 1000), data };
      if (gpt) {
        const imageTokens = Math.round((parsed.width * parsed.height) / 1024) * parsed.n;
        Object.assign(body, {
          background: parsed.background === 'transparent' ? 'transparent' : 'opaque',
          output_format: format,
          size: `${parsed.width}x${parsed.height}`,
          quality: parsed.quality === 'auto' ? 'medium' : parsed.quality,
          usage: {
            total_tokens: 20 + imageTokens,
            input_tokens: 20,
            output_tokens: imageTokens,
            input_tokens_details: { text_tokens: 20, image_tokens: 0 },
          },
        });
      }
      if (fault?.kind === 'malformed') sendMalformed(res, fault.variant, body, common);
      else sendJson(res, 200, body, common);
    } catch (error) {
      if (!(error instanceof Reject)) throw error;
      const e = error.error;
      sendJson(
        res,
        e.status,
        { error: { message: e.message, type: e.type, param: e.param ?? null, code: e.code ?? null } },
        { ...common, ...e.headers },
      );
    }
  }

  function takeFault(): Fault | undefined {
    const fault = faults[0];
    if (!fault) return undefined;
    if (fault.times <= 1) faults.shift();
    else faults[0] = { ...fault, times: fault.times - 1 };
    return fault;
  }

  /** Answers the request the way the real API fails; false when the request should go on normally. */
  async function applyFault(
    fault: Fault,
    model: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<boolean> {
    switch (fault.kind) {
      case 'echo_credential':
        throw new Reject(
          fault.status === 401
            ? {
                status: 401,
                type: 'invalid_request_error',
                code: 'invalid_api_key',
                message: `Incorrect API key provided: ${credentialsSeen(req.headers)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
              }
            : {
                status: 500,
                type: 'server_error',
                message: `The server had an error while processing your request (${credentialsSeen(req.headers)}). Sorry about that!`,
              },
        );
      case 'rate_limit': {
        const seconds = fault.retryAfterMs / 1000;
        throw new Reject({
          status: 429,
          type: 'requests',
          code: 'rate_limit_exceeded',
          message: `Rate limit reached for ${model} in organization org-fake on images per minute (IPM): Limit 5, Used 5, Requested 1. Please try again in ${seconds}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
          headers: {
            'retry-after-ms': String(fault.retryAfterMs),
            'retry-after': String(Math.ceil(seconds)),
            'x-ratelimit-remaining-requests': '0',
            'x-ratelimit-reset-requests': `${fault.retryAfterMs}ms`,
          },
        });
      }
      case 'server_error':
        throw new Reject({
          status: fault.status,
          type: 'server_error',
          message:
            fault.status === 503
              ? 'The engine is currently overloaded, please try again later.'
              : 'The server had an error while processing your request. Sorry about that!',
        });
      case 'moderation':
        throw isGptImageModel(model)
          ? new Reject({
              status: 400,
              type: 'image_generation_user_error',
              code: 'moderation_blocked',
              message:
                'Your request was rejected as a result of our safety system. Your request may contain content that is not allowed by our safety system.',
            })
          : new Reject({
              status: 400,
              type: 'invalid_request_error',
              code: 'content_policy_violation',
              message:
                'Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.',
            });
      case 'invalid':
        throw invalid(
          "Invalid value: '999x999'. Supported values are: '1024x1024', '1024x1536', '1536x1024', and 'auto'.",
          'size',
        );
      case 'slow':
        await waitOrClose(req, fault.delayMs);
        return false;
      case 'stuck':
        // A sync API that never answers: hold the connection until the client gives up.
        await waitOrClose(req, 600_000);
        res.destroy();
        return true;
      case 'malformed':
        return false;
    }
  }

  function parseGeneration(raw: Buffer, contentType: string, record: RecordedRequest) {
    if (!contentType.includes('application/json')) {
      throw invalid(
        'Invalid Content-Type header (' + contentType + '), expected application/json.',
        null,
        null,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw invalid(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
        null,
        null,
      );
    }
    record.body = json;
    const result = GenerationRequestSchema.safeParse(json);
    if (!result.success) throw zodReject(result.error);
    const body = result.data;
    const model = body.model ?? 'dall-e-2';
    checkModel(model);
    if (model === 'dall-e-3' && (body.n ?? 1) !== 1) {
      throw invalid("Invalid 'n': dall-e-3 only supports n=1.", 'n');
    }
    const [width, height] = checkSize(model, body.size ?? (isGptImageModel(model) ? 'auto' : '1024x1024'));
    const outputFormat = isGptImageModel(model) ? (body.output_format ?? 'png') : 'png';
    if (body.background === 'transparent' && outputFormat === 'jpeg') {
      throw invalid('Transparent background requires output_format png or webp.', 'background');
    }
    checkStream(model, body.stream === true);
    return {
      model,
      prompt: body.prompt,
      n: body.n ?? 1,
      width,
      height,
      outputFormat,
      background: body.background ?? 'auto',
      quality: body.quality ?? 'auto',
      responseFormat: body.response_format,
      stream: body.stream === true,
      partialImages: body.partial_images ?? 0,
    };
  }

  async function parseEdit(raw: Buffer, contentType: string, record: RecordedRequest) {
    if (!contentType.includes('multipart/form-data')) {
      throw invalid(
        'Invalid Content-Type header (' + contentType + '), expected multipart/form-data.',
        null,
        null,
      );
    }
    const form = await new Response(new Uint8Array(raw), {
      headers: { 'content-type': contentType },
    }).formData();
    const fields: Record<string, string> = {};
    const images: Blob[] = [];
    let mask: Blob | undefined;
    for (const [key, value] of form.entries()) {
      if (typeof value === 'string') fields[key] = value;
      else if (key === 'image' || key === 'image[]') images.push(value);
      else if (key === 'mask') mask = value;
      else throw invalid(`Unknown parameter: '${key}'.`, key, 'unknown_parameter');
    }
    record.body = {
      ...fields,
      images: images.map((b) => ({ type: b.type, size: b.size })),
      mask: mask?.size,
    };
    const result = EditFieldsSchema.safeParse(fields);
    if (!result.success) throw zodReject(result.error);
    if (images.length === 0)
      throw invalid("Missing required parameter: 'image'.", 'image', 'missing_required_parameter');
    const model = result.data.model ?? 'gpt-image-1.5';
    checkModel(model);
    if (images.length > (isGptImageModel(model) ? 16 : 1)) throw invalid('Too many images.', 'image');
    const [width, height] = checkSize(
      model,
      result.data.size ?? (isGptImageModel(model) ? 'auto' : '1024x1024'),
    );
    const outputFormat = result.data.output_format ?? 'png';
    checkStream(model, result.data.stream === 'true');
    return {
      model,
      prompt: result.data.prompt,
      n: result.data.n ?? 1,
      width,
      height,
      outputFormat,
      background: result.data.background ?? 'auto',
      quality: result.data.quality ?? 'auto',
      responseFormat: result.data.response_format,
      stream: result.data.stream === 'true',
      partialImages: result.data.partial_images ?? 0,
    };
  }

  const address = await new Promise<AddressInfo>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo)),
  );
  base = `http://127.0.0.1:${address.port}`;

  return {
    url: `${base}/v1`,
    apiKey,
    requests,
    cancelled: [],
    batches: batchApi.control,
    inject: (fault) => faults.push(fault),
    failStream: (fault) => {
      streamFault = fault;
    },
    reset: () => {
      faults.length = 0;
      requests.length = 0;
      streamFault = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface StreamedRequest {
  model: string;
  prompt: string;
  n: number;
  width: number;
  height: number;
  outputFormat: string;
  background: string;
  quality: string;
  partialImages: number;
}

/**
 * A streamed answer as OpenAI sends it: `text/event-stream`, each event an `event:` line and one `data:`
 * line of JSON, a blank line after each; partial images of the first image (`partial_image_index` from 0),
 * then one `…completed` event per image with its usage. A failure after the stream opened is an `error`
 * event carrying the usual error object, and the stream ends.
 */
async function sendStream(
  res: ServerResponse,
  kind: 'image_generation' | 'image_edit',
  request: StreamedRequest,
  images: Uint8Array[],
  headers: Record<string, string>,
  fault: StreamFault | undefined,
): Promise<void> {
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const settings = {
    size: `${request.width}x${request.height}`,
    quality: request.quality === 'auto' ? 'medium' : request.quality,
    background: request.background === 'transparent' ? 'transparent' : 'opaque',
    output_format: request.outputFormat,
  };
  const send = async (type: string, data: Record<string, unknown>) => {
    if (res.destroyed) return;
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    // One event per turn of the event loop, so a client sees them arrive one by one.
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
  const now = () => Math.floor(Date.now() / 1000);
  for (let index = 0; index <= request.partialImages; index++) {
    if (fault && fault.afterPartials === index) {
      const error =
        fault.kind === 'moderation'
          ? {
              message:
                'Your request was rejected as a result of our safety system. The generated image may contain content that is not allowed by our safety system.',
              type: 'image_generation_user_error',
              param: null,
              code: 'moderation_blocked',
            }
          : {
              message: 'The server had an error while processing your request. Sorry about that!',
              type: 'server_error',
              param: null,
              code: null,
            };
      await send('error', { error });
      res.end();
      return;
    }
    if (index === request.partialImages) break;
    // A partial image: the same picture made with a different seed per step, so each frame differs.
    const partial = await cachedImage({
      prompt: request.prompt,
      seed: fnv1a(`${request.prompt}#0~${index}`),
      width: request.width,
      height: request.height,
      format: request.outputFormat as FakeImageRequest['format'],
      background: settings.background === 'transparent' ? 'transparent' : 'opaque',
    });
    await send(`${kind}.partial_image`, {
      b64_json: Buffer.from(partial).toString('base64'),
      created_at: now(),
      ...settings,
      partial_image_index: index,
    });
  }
  const imageTokens = Math.round((request.width * request.height) / 1024);
  for (const bytes of images) {
    await send(`${kind}.completed`, {
      b64_json: Buffer.from(bytes).toString('base64'),
      created_at: now(),
      ...settings,
      usage: {
        total_tokens: 20 + imageTokens,
        input_tokens: 20,
        output_tokens: imageTokens,
        input_tokens_details: { text_tokens: 20, image_tokens: 0 },
      },
    });
  }
  res.end();
}

/** Streaming is for GPT image models only (DALL·E answers one JSON body). */
function checkStream(model: string, stream: boolean): void {
  if (stream && !isGptImageModel(model)) {
    throw invalid(`Streaming is not supported for model '${model}'.`, 'stream', 'unsupported_value');
  }
}

const imageCache = new Map<string, Promise<Uint8Array>>();

/** Rendering dominates a fake's reply time; the benchmark repeats one request hundreds of times. */
function cachedImage(request: FakeImageRequest): Promise<Uint8Array> {
  const key = JSON.stringify(request);
  let hit = imageCache.get(key);
  if (!hit) {
    hit = fakeImage(request).then((image) => image.bytes);
    imageCache.set(key, hit);
    if (imageCache.size > 64) imageCache.delete(imageCache.keys().next().value!);
  }
  return hit;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function checkModel(model: string): void {
  if (!MODELS.has(model)) {
    throw new Reject({
      status: 400,
      type: 'invalid_request_error',
      param: 'model',
      code: 'invalid_value',
      message: `Invalid value: '${model}'. Supported values are: ${[...MODELS].map((m) => `'${m}'`).join(', ')}.`,
    });
  }
}

/** The size rules per model family; returns the pixels the image will have. */
function checkSize(model: string, size: string): [number, number] {
  const allowed: readonly string[] =
    model === 'dall-e-2' ? DALLE2_SIZES : model === 'dall-e-3' ? DALLE3_SIZES : GPT_IMAGE_SIZES;
  if (size === 'auto' && isGptImageModel(model)) return [1024, 1024];
  if (model === 'gpt-image-2' && size !== 'auto') {
    const [w, h] = size.split('x').map(Number) as [number, number];
    const ok =
      w % 16 === 0 &&
      h % 16 === 0 &&
      w / h <= 3 &&
      h / w <= 3 &&
      Math.max(w, h) <= 3840 &&
      w * h <= 3840 * 2160;
    if (!ok) {
      throw invalid(
        `Invalid value: '${size}'. Width and height must be multiples of 16, aspect ratio between 1:3 and 3:1, at most 3840x2160.`,
        'size',
      );
    }
    return [w, h];
  }
  if (!allowed.includes(size)) {
    throw invalid(
      `Invalid value: '${size}'. Supported values are: ${allowed.map((s) => `'${s}'`).join(', ')}.`,
      'size',
    );
  }
  const [w, h] = size.split('x').map(Number) as [number, number];
  return [w, h];
}

/** zod issues → OpenAI's wording for unknown and out-of-range parameters. */
function zodReject(error: z.ZodError): Reject {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    return invalid(`Unknown parameter: '${key}'.`, key, 'unknown_parameter');
  }
  const param = issue.path.join('.') || null;
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return invalid(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
  }
  if (issue.code === 'too_big' || issue.code === 'too_small') {
    const bound = issue.code === 'too_big' ? 'above maximum' : 'below minimum';
    return invalid(
      `Invalid '${param}': ${bound} value. Expected a value ${issue.code === 'too_big' ? '<=' : '>='} ${String(issue.code === 'too_big' ? issue.maximum : issue.minimum)}.`,
      param,
      issue.code === 'too_big' ? 'integer_above_max_value' : 'integer_below_min_value',
    );
  }
  return invalid(`Invalid value for '${param}': ${issue.message}.`, param);
}

function sendMalformed(
  res: ServerResponse,
  variant: Extract<Fault, { kind: 'malformed' }>['variant'],
  body: Record<string, unknown>,
  headers: Record<string, string>,
): void {
  if (variant === 'missing_fields') sendJson(res, 200, { created: body.created }, headers);
  else if (variant === 'empty_list') sendJson(res, 200, { ...body, data: [] }, headers);
  else if (variant === 'not_image') {
    const junk = Buffer.from('this is not an image at all').toString('base64');
    sendJson(res, 200, { ...body, data: [{ b64_json: junk }] }, headers);
  } else sendHtml(res, headers);
}

function sendHtml(res: ServerResponse, headers: Record<string, string>): void {
  const html = '<html><body><h1>502 Bad Gateway</h1></body></html>';
  res.writeHead(200, { ...headers, 'content-type': 'text/html', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Resolves after `ms`, or as soon as the client disconnects. */
function waitOrClose(req: IncomingMessage, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      req.socket.off('close', done);
      resolve();
    }
    req.socket.on('close', done);
  });
}
