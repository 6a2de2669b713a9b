import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import sharp from 'sharp';
import {
  credentialsSeen,
  delay,
  FakeState,
  type ParsedRequest,
  sendBytes,
  sendJson,
} from '../testing/fake-http.ts';
import { fakeImage } from '../testing/fake-image.ts';
import { fastApiDetail } from '../testing/fastapi.ts';
import type { FakeServer, Fault } from '../testing/types.ts';
import { FAL_INPUT_SCHEMAS, IMAGE_SIZE_PRESETS, type ImageSizePreset } from './wire.ts';

/**
 * A local stand-in for fal: the queue host (`url`: submit, status, result, cancel, and the CDN files)
 * and the sync host (`runUrl`). Like fal, the queue's request URLs drop the endpoint sub-path
 * (`/fal-ai/flux/requests/{id}` for `fal-ai/flux/dev`), and input is validated when the job runs,
 * so a bad input shows up as a 422 on the result. A prompt containing `nsfwWord` is flagged
 * in `has_nsfw_concepts` and its image blacked out.
 */
export interface FalFakeOptions {
  apiKey?: string;
  nsfwWord?: string;
}

export interface FalFake extends FakeServer {
  /** Base URL of the sync host (what `FAL_RUN_BASE_URL` would hold); `url` is the queue host. */
  runUrl: string;
}

type Malformed = Extract<Fault, { kind: 'malformed' }>['variant'];

interface Job {
  id: string;
  model: string;
  input: unknown;
  polls: number;
  stuck: boolean;
  moderate: boolean;
  malformed?: Malformed;
  cancelled: boolean;
  output?: { status: number; body: unknown; contentType?: string };
}

const REQUEST_PATH = /^\/([^/]+)\/([^/]+)\/requests\/([^/]+)(\/status|\/cancel)?$/;

export async function startFalFake(options: FalFakeOptions = {}): Promise<FalFake> {
  const apiKey = options.apiKey ?? 'fal-fake-key:secret';
  const nsfwWord = (options.nsfwWord ?? 'nsfw-test').toLowerCase();
  const state = new FakeState();
  const { cancelled, faults } = state;
  const jobs = new Map<string, Job>();
  const files = new Map<string, { bytes: Uint8Array; type: string }>();
  let seedCounter = 9000;
  let queueUrl = '';

  const authorized = (request: ParsedRequest) => request.headers.authorization === `Key ${apiKey}`;
  const unauthorized = (res: ServerResponse) =>
    sendJson(res, 401, { detail: 'Authentication is required to access this application.' });

  function echoCredential(res: ServerResponse, status: 401 | 500, request: ParsedRequest): void {
    const seen = credentialsSeen(request.headers);
    sendJson(res, status, {
      detail:
        status === 401
          ? `Authentication is required to access this application. Invalid key: ${seen}`
          : `Internal server error while handling ${seen}`,
    });
  }

  /** Faults that answer before any job exists; returns true when one did. */
  async function preflight(res: ServerResponse, fault: Fault | undefined): Promise<boolean> {
    if (fault?.kind === 'slow') await delay(fault.delayMs, res);
    if (fault?.kind === 'rate_limit') {
      sendJson(
        res,
        429,
        { detail: 'Too many requests: concurrency limit reached' },
        {
          'retry-after': String(fault.retryAfterMs / 1000),
        },
      );
      return true;
    }
    if (fault?.kind === 'server_error') {
      sendJson(res, fault.status, { detail: 'Internal server error' });
      return true;
    }
    if (fault?.kind === 'invalid') {
      sendJson(res, 422, {
        detail: [{ loc: ['body', 'prompt'], msg: 'The prompt was rejected', type: 'value_error' }],
      });
      return true;
    }
    return false;
  }

  /** Runs the app: validates input and renders the images, like fal's runner. */
  async function run(model: string, input: unknown, moderate: boolean, bad?: Malformed) {
    const parsed = FAL_INPUT_SCHEMAS[model]!.safeParse(input);
    if (!parsed.success) return { status: 422, body: { detail: fastApiDetail(parsed.error, input) } };
    const body = parsed.data as {
      prompt: string;
      image_size?: ImageSizePreset | { width: number; height: number };
      num_images?: number;
      seed?: number;
      output_format?: 'jpeg' | 'png';
      sync_mode?: boolean;
    };
    const [width, height] = sizeOf(body.image_size);
    seedCounter += 7919;
    const seed = body.seed ?? seedCounter;
    const format = body.output_format ?? 'jpeg';
    const nsfw = moderate || body.prompt.toLowerCase().includes(nsfwWord);
    const images = [];
    for (let i = 0; i < (body.num_images ?? 1); i++) {
      const name = `${randomUUID()}.${format}`;
      const image = nsfw
        ? await blackImage(width, height, format)
        : await fakeImage({ prompt: body.prompt, width, height, seed: seed + i, format });
      const bytes = bad === 'not_image' ? Buffer.from('not an image') : image.bytes;
      files.set(name, { bytes, type: image.mediaType });
      // sync_mode returns data URIs instead of CDN URLs.
      const url = body.sync_mode
        ? `data:${image.mediaType};base64,${Buffer.from(bytes).toString('base64')}`
        : `${queueUrl}/files/${name}`;
      images.push({ url, width, height, content_type: image.mediaType, file_name: name });
    }
    const output = {
      images: bad === 'empty_list' ? [] : images,
      seed,
      prompt: body.prompt,
      has_nsfw_concepts: images.map(() => nsfw),
      timings: { inference: 0.42 },
    };
    if (bad === 'missing_fields') return { status: 200, body: { seed, prompt: body.prompt } };
    if (bad === 'wrong_content_type')
      return { status: 200, body: '<html>oops</html>', contentType: 'text/html' };
    return { status: 200, body: output };
  }

  function reply(
    res: ServerResponse,
    out: { status: number; body: unknown; contentType?: string },
    headers = {},
  ) {
    if (out.contentType)
      return sendBytes(res, out.status, Buffer.from(String(out.body)), out.contentType, headers);
    sendJson(res, out.status, out.body, headers);
  }

  async function handleQueue(request: ParsedRequest, res: ServerResponse): Promise<void> {
    const path = request.url.pathname;
    if (request.method === 'GET' && path.startsWith('/files/')) {
      const file = files.get(path.slice('/files/'.length));
      return file ? sendBytes(res, 200, file.bytes, file.type) : sendJson(res, 404, { detail: 'Not found' });
    }
    if (!authorized(request)) return unauthorized(res);
    const job = REQUEST_PATH.exec(path);
    if (job) return jobRoute(res, request.method, job[3]!, job[4], `${job[1]}/${job[2]}`);
    const model = path.slice(1);
    if (request.method !== 'POST' || !FAL_INPUT_SCHEMAS[model])
      return sendJson(res, 404, { detail: `Application ${model} not found` });
    const fault = faults.take();
    if (fault?.kind === 'echo_credential') return echoCredential(res, fault.status, request);
    if (await preflight(res, fault)) return;
    const id = randomUUID();
    jobs.set(id, {
      id,
      model,
      input: request.body,
      polls: 0,
      stuck: fault?.kind === 'stuck',
      moderate: fault?.kind === 'moderation',
      ...(fault?.kind === 'malformed' ? { malformed: fault.variant } : {}),
      cancelled: false,
    });
    // The request URLs use only owner/alias: `fal-ai/flux/dev` → `fal-ai/flux/requests/…`.
    const base = `${queueUrl}/${model.split('/').slice(0, 2).join('/')}/requests/${id}`;
    sendJson(res, 200, {
      request_id: id,
      response_url: base,
      status_url: `${base}/status`,
      cancel_url: `${base}/cancel`,
      queue_position: 0,
    });
  }

  async function jobRoute(
    res: ServerResponse,
    method: string,
    id: string,
    action: string | undefined,
    app: string,
  ) {
    const job = jobs.get(id);
    if (!job || (!job.model.startsWith(`${app}/`) && job.model !== app))
      return sendJson(res, 404, { detail: 'Request not found' });
    const done = !job.stuck && !job.cancelled && job.polls >= 3;
    if (action === '/cancel') {
      if (method !== 'PUT') return sendJson(res, 405, { detail: 'Method Not Allowed' });
      cancelled.push(id);
      if (done) return sendJson(res, 400, { status: 'ALREADY_COMPLETED' });
      job.cancelled = true;
      return sendJson(res, 202, { status: 'CANCELLATION_REQUESTED' });
    }
    if (method !== 'GET') return sendJson(res, 405, { detail: 'Method Not Allowed' });
    const responseUrl = `${queueUrl}/${app}/requests/${id}`;
    if (action === '/status') {
      if (job.stuck || job.cancelled)
        return sendJson(res, 200, { status: 'IN_QUEUE', queue_position: 3, response_url: responseUrl });
      job.polls += 1;
      if (job.polls === 1)
        return sendJson(res, 200, { status: 'IN_QUEUE', queue_position: 1, response_url: responseUrl });
      if (job.polls === 2)
        return sendJson(res, 200, { status: 'IN_PROGRESS', response_url: responseUrl, logs: null });
      return sendJson(res, 200, { status: 'COMPLETED', response_url: responseUrl, logs: null });
    }
    if (!done) return sendJson(res, 400, { detail: 'Request is still in progress' });
    job.output ??= await run(job.model, job.input, job.moderate, job.malformed);
    reply(res, job.output, { 'x-fal-request-id': id });
  }

  async function handleRun(request: ParsedRequest, res: ServerResponse): Promise<void> {
    if (!authorized(request)) return unauthorized(res);
    const model = request.url.pathname.slice(1);
    if (request.method !== 'POST' || !FAL_INPUT_SCHEMAS[model])
      return sendJson(res, 404, { detail: `Application ${model} not found` });
    const fault = faults.take();
    if (fault?.kind === 'stuck') return void (await new Promise<void>((resolve) => res.on('close', resolve)));
    if (fault?.kind === 'echo_credential') return echoCredential(res, fault.status, request);
    if (await preflight(res, fault)) return;
    const malformedVariant = fault?.kind === 'malformed' ? fault.variant : undefined;
    const out = await run(model, request.body, fault?.kind === 'moderation', malformedVariant);
    reply(res, out, { 'x-fal-request-id': randomUUID() });
  }

  const onError = (res: ServerResponse, error: unknown) => sendJson(res, 500, { detail: String(error) });
  const queueServer = await state.serve(handleQueue, onError);
  const runServer = await state.serve(handleRun, onError);
  queueUrl = queueServer.url;

  return {
    ...state.fake(queueServer, apiKey),
    runUrl: runServer.url,
    close: async () => {
      await Promise.all([queueServer.close(), runServer.close()]);
    },
  };
}

function sizeOf(size: ImageSizePreset | { width: number; height: number } | undefined): [number, number] {
  if (size === undefined) return [...IMAGE_SIZE_PRESETS.landscape_4_3];
  if (typeof size === 'string') return [...IMAGE_SIZE_PRESETS[size]];
  return [size.width, size.height];
}

/** fal blacks out an image its safety checker flags. */
async function blackImage(width: number, height: number, format: 'jpeg' | 'png') {
  const canvas = sharp({ create: { width, height, channels: 3, background: { r: 0, g: 0, b: 0 } } });
  const bytes = new Uint8Array(await (format === 'png' ? canvas.png() : canvas.jpeg()).toBuffer());
  return { bytes, mediaType: `image/${format}` };
}
