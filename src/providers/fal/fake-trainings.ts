import { randomBytes, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { FakeState, type ParsedRequest, sendBytes, sendJson } from '../testing/fake-http.ts';
import { fastApiDetail } from '../testing/fastapi.ts';
import type { RecordedRequest } from '../testing/types.ts';
import { FAL_TRAINER_INPUT_SCHEMAS } from './trainings-wire.ts';

/**
 * A local stand-in for fal as a LoRA training backend uses it: storage uploads (`POST
 * /storage/upload/initiate` → `{ upload_url, file_url }`, then an unauthenticated `PUT upload_url`; the
 * file is then public at `file_url`), and the queue for the two trainers (`POST /fal-ai/<trainer>` →
 * `{ request_id, status_url, response_url, cancel_url }`; `GET status_url?logs=1`; `GET response_url`;
 * `PUT cancel_url`). Statuses go IN_QUEUE → IN_PROGRESS (logs carrying the training's percentage) →
 * COMPLETED, one step per status read (no clock). A failure shows as it does at fal: the status completes
 * and the result answers with FastAPI's `detail`. A wrong key gets fal's 401. One server plays the queue,
 * REST and CDN hosts.
 */
export interface FalTrainingsFake {
  url: string;
  apiKey: string;
  /** Trainings submitted, by request id. */
  trainings: Map<string, FakeFalTraining>;
  /** Files on the fake CDN by name (uploads and training outputs). */
  files: Map<string, Uint8Array>;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** The next training submitted fails at its end with this message (on `images_data_url`, as fal reports a bad archive). */
  failNext(message: string): void;
  close(): Promise<void>;
}

export interface FakeFalTraining {
  id: string;
  app: string;
  input: Record<string, unknown>;
  reads: number;
  cancelled: boolean;
  failWith?: string;
  result?: { status: number; body: unknown };
}

/** Status reads spent IN_PROGRESS before a training completes. */
const PROGRESS_READS = 3;

export interface FalTrainingsFakeOptions {
  apiKey?: string;
  /**
   * The base URL of a fal image fake (`startFalFake`) to hand every other app to, so one host serves the
   * trainers and the image apps their results run on, as queue.fal.run does.
   */
  otherApps?: string;
}

export async function startFalTrainingsFake(
  options: FalTrainingsFakeOptions = {},
): Promise<FalTrainingsFake> {
  const apiKey = options.apiKey ?? 'fal-fake-key:secret';
  const state = new FakeState();
  const trainings = new Map<string, FakeFalTraining>();
  const files = new Map<string, Uint8Array>();
  const uploads = new Map<string, string>();
  let failNext: string | undefined;
  let base = '';

  const status = (t: FakeFalTraining) => {
    if (t.cancelled || t.reads > PROGRESS_READS + 1) return 'COMPLETED';
    return t.reads <= 1 ? 'IN_QUEUE' : 'IN_PROGRESS';
  };
  const steps = (t: FakeFalTraining) => Number(t.input.steps ?? 1000);
  const logs = (t: FakeFalTraining) => {
    const lines = [{ message: 'Preparing the dataset archive', level: 'INFO' }];
    const done = Math.min(t.reads - 2, PROGRESS_READS);
    for (let k = 0; k <= done; k++) {
      const percent = Math.round((100 * k) / PROGRESS_READS);
      const step = Math.round((steps(t) * k) / PROGRESS_READS);
      lines.push({
        message: `Training: ${percent}%|${'#'.repeat(percent / 10)}| ${step}/${steps(t)}`,
        level: 'INFO',
      });
    }
    if (t.failWith && status(t) === 'COMPLETED') lines.push({ message: t.failWith, level: 'ERROR' });
    return lines.map((l, i) => ({
      ...l,
      source: 'USER',
      timestamp: new Date(Date.UTC(2026, 11, 2, 0, 0, i)).toISOString(),
    }));
  };

  /** The trainer's answer, fixed on the first read of a completed request. */
  const finish = (t: FakeFalTraining) => {
    if (t.result) return t.result;
    const parsed = FAL_TRAINER_INPUT_SCHEMAS[t.app]!.safeParse(t.input);
    const zipField = t.app === 'fal-ai/flux-2-trainer' ? 'image_data_url' : 'images_data_url';
    const zipUrl = String(t.input[zipField] ?? '');
    const zipName = zipUrl.startsWith(`${base}/files/`) ? zipUrl.slice(`${base}/files/`.length) : undefined;
    const archiveError = (msg: string) => ({
      status: 422,
      body: { detail: [{ loc: ['body', zipField], msg, type: 'file_download_error' }] },
    });
    if (!parsed.success) t.result = { status: 422, body: { detail: fastApiDetail(parsed.error, t.input) } };
    else if (zipName !== undefined && !files.has(zipName))
      t.result = archiveError(`Failed to download the file from ${zipUrl}`);
    else if (t.failWith) t.result = archiveError(t.failWith);
    else {
      const lora = `${randomBytes(6).toString('hex')}/pytorch_lora_weights.safetensors`;
      const config = `${randomBytes(6).toString('hex')}/config.json`;
      const weights = new Uint8Array(randomBytes(256));
      files.set(lora, weights);
      files.set(config, new TextEncoder().encode(JSON.stringify({ steps: steps(t) })));
      t.result = {
        status: 200,
        body: {
          diffusers_lora_file: {
            url: `${base}/files/${lora}`,
            content_type: 'application/octet-stream',
            file_name: 'pytorch_lora_weights.safetensors',
            file_size: weights.byteLength,
          },
          config_file: {
            url: `${base}/files/${config}`,
            content_type: 'application/octet-stream',
            file_name: 'config.json',
          },
        },
      };
    }
    return t.result;
  };

  const requestRoute = (res: ServerResponse, request: ParsedRequest, m: RegExpExecArray) => {
    const t = trainings.get(m[3]!);
    if (!t || !(t.app === `${m[1]}/${m[2]}` || t.app.startsWith(`${m[1]}/${m[2]}/`)))
      return sendJson(res, 404, { detail: 'Request not found' });
    const done = status(t) === 'COMPLETED';
    if (m[4] === '/cancel') {
      if (request.method !== 'PUT') return sendJson(res, 405, { detail: 'Method Not Allowed' });
      state.cancelled.push(t.id);
      if (done) return sendJson(res, 400, { status: 'ALREADY_COMPLETED' });
      t.cancelled = true;
      t.result = { status: 400, body: { detail: 'Request was cancelled' } };
      return sendJson(res, 202, { status: 'CANCELLATION_REQUESTED' });
    }
    if (request.method !== 'GET') return sendJson(res, 405, { detail: 'Method Not Allowed' });
    const urls = requestUrls(t);
    if (m[4] === '/status') {
      if (!done) t.reads += 1;
      const now = status(t);
      const withLogs = request.url.searchParams.get('logs') === '1';
      return sendJson(res, 200, {
        status: now,
        request_id: t.id,
        ...urls,
        ...(now === 'IN_QUEUE' ? { queue_position: 0 } : { logs: withLogs ? logs(t) : null }),
        ...(now === 'COMPLETED' && { metrics: { inference_time: t.cancelled ? null : 412.5 } }),
      });
    }
    if (!done) return sendJson(res, 400, { detail: 'Request is still in progress' });
    const out = finish(t);
    sendJson(res, out.status, out.body, { 'x-fal-request-id': t.id });
  };

  const requestUrls = (t: FakeFalTraining) => {
    // Request URLs use only owner/alias: `fal-ai/flux-2-trainer` → `fal-ai/flux-2-trainer/requests/…`.
    const at = `${base}/${t.app.split('/').slice(0, 2).join('/')}/requests/${t.id}`;
    return { response_url: at, status_url: `${at}/status`, cancel_url: `${at}/cancel` };
  };

  /** Hands the request to the image fake, as it is. */
  async function forward(request: ParsedRequest, res: ServerResponse): Promise<void> {
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'content-type', 'accept']) {
      if (request.headers[name]) headers[name] = request.headers[name]!;
    }
    const answer = await fetch(`${options.otherApps}${request.url.pathname}${request.url.search}`, {
      method: request.method,
      headers,
      ...(request.raw.length > 0 && { body: new Uint8Array(request.raw) }),
    });
    const type = answer.headers.get('content-type') ?? 'application/octet-stream';
    const id = answer.headers.get('x-fal-request-id');
    sendBytes(res, answer.status, new Uint8Array(await answer.arrayBuffer()), type, {
      ...(id && { 'x-fal-request-id': id }),
    });
  }

  async function handle(request: ParsedRequest, res: ServerResponse): Promise<void> {
    const path = request.url.pathname;
    if (request.method === 'GET' && path.startsWith('/files/')) {
      const file = files.get(path.slice('/files/'.length));
      if (!file && options.otherApps) return forward(request, res);
      return file
        ? sendBytes(res, 200, file, 'application/octet-stream')
        : sendJson(res, 404, { detail: 'Not found' });
    }
    if (request.method === 'PUT' && path.startsWith('/uploads/')) {
      // The signed upload URL: no key, just the bytes.
      const name = uploads.get(path.slice('/uploads/'.length));
      if (!name) return sendJson(res, 403, { detail: 'Upload URL expired or unknown' });
      files.set(name, new Uint8Array(request.raw));
      uploads.delete(path.slice('/uploads/'.length));
      return sendJson(res, 200, {});
    }
    if (request.headers.authorization !== `Key ${apiKey}`) {
      return sendJson(res, 401, { detail: 'Authentication is required to access this application.' });
    }
    if (request.method === 'POST' && path === '/storage/upload/initiate') {
      const body = request.body as { content_type?: unknown; file_name?: unknown } | undefined;
      if (typeof body?.file_name !== 'string' || typeof body.content_type !== 'string') {
        return sendJson(res, 422, {
          detail: [{ loc: ['body', 'file_name'], msg: 'Field required', type: 'missing' }],
        });
      }
      const token = randomUUID();
      const name = `${randomBytes(6).toString('hex')}/${body.file_name}`;
      uploads.set(token, name);
      return sendJson(res, 200, {
        upload_url: `${base}/uploads/${token}`,
        file_url: `${base}/files/${name}`,
      });
    }
    const m = /^\/([^/]+)\/([^/]+)\/requests\/([^/]+)(\/status|\/cancel)?$/.exec(path);
    if (m && !trainings.has(m[3]!) && options.otherApps) return forward(request, res);
    if (m) return requestRoute(res, request, m);
    const app = path.slice(1);
    if (!FAL_TRAINER_INPUT_SCHEMAS[app] && options.otherApps) return forward(request, res);
    if (request.method !== 'POST' || !FAL_TRAINER_INPUT_SCHEMAS[app])
      return sendJson(res, 404, { detail: `Application ${app} not found` });
    const input = request.body && typeof request.body === 'object' ? request.body : {};
    const t: FakeFalTraining = {
      id: randomUUID(),
      app,
      input: input as Record<string, unknown>,
      reads: 0,
      cancelled: false,
      ...(failNext !== undefined && { failWith: failNext }),
    };
    failNext = undefined;
    trainings.set(t.id, t);
    sendJson(res, 200, { request_id: t.id, ...requestUrls(t), queue_position: 0 });
  }

  const server = await state.serve(handle, (res, error) => sendJson(res, 500, { detail: String(error) }));
  base = server.url;
  return {
    url: base,
    apiKey,
    trainings,
    files,
    requests: state.requests,
    failNext: (message) => {
      failNext = message;
    },
    close: server.close,
  };
}
