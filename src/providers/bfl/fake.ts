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
import { fastApiDetail } from '../testing/fastapi.ts';
import type { FakeServer, Fault } from '../testing/types.ts';
import { BFL_REQUEST_SCHEMAS, type BflStatus } from './wire.ts';

/**
 * A local stand-in for api.bfl.ai: `POST /v1/{model}` → `{ id, polling_url }`, the polling URL walks
 * Pending (with progress) → Ready and the signed sample URL serves the image. A prompt containing
 * `moderationWord` ends in "Content Moderated"; an injected moderation fault in "Request Moderated".
 */
export interface BflFakeOptions {
  apiKey?: string;
  moderationWord?: string;
  /** Polls answered Pending before a job is Ready (default 2). */
  pendingPolls?: number;
}

export interface BflFake extends FakeServer {
  /** The next submitted job ends in status Error with these details. */
  failNextJob(details: string): void;
  /** The next submitted job answers "Task not found" to every poll. */
  loseNextJob(): void;
}

type Outcome =
  | { kind: 'ready' }
  | { kind: 'status'; status: BflStatus; details?: unknown }
  | { kind: 'stuck' }
  | { kind: 'malformed'; variant: Extract<Fault, { kind: 'malformed' }>['variant'] };

interface Job {
  id: string;
  prompt: string;
  width: number;
  height: number;
  seed: number;
  format: 'jpeg' | 'png';
  polls: number;
  outcome: Outcome;
}

/** Credits per image (1 credit = $0.01), from the reference's price list. */
const COST: Record<string, number> = {
  'flux-dev': 2.5,
  'flux-pro-1.1': 4,
  'flux-pro-1.1-ultra': 6,
  'flux-pro': 5,
  'flux-kontext-pro': 4,
  'flux-kontext-max': 8,
};

export async function startBflFake(options: BflFakeOptions = {}): Promise<BflFake> {
  const apiKey = options.apiKey ?? 'bfl-fake-key';
  const moderationWord = (options.moderationWord ?? 'nsfw-test').toLowerCase();
  const pendingPolls = options.pendingPolls ?? 2;
  const state = new FakeState();
  const { faults } = state;
  const jobs = new Map<string, Job>();
  const planned: Outcome[] = [];
  let seedCounter = 5000;
  let url = '';

  async function handle(request: ParsedRequest, res: ServerResponse): Promise<void> {
    const path = request.url.pathname;
    if (request.method === 'GET' && path.startsWith('/samples/')) return sample(res, path);
    if (request.headers['x-key'] !== apiKey)
      return sendJson(res, 403, { detail: 'Not authenticated - Invalid Authentication' });
    if (request.method === 'GET' && path === '/v1/get_result')
      return result(res, request.url.searchParams.get('id'));
    const submit = /^\/v1\/([^/]+)$/.exec(path);
    if (request.method !== 'POST' || !submit) return sendJson(res, 404, { detail: 'Not Found' });
    const model = decodeURIComponent(submit[1]!);
    const schema = BFL_REQUEST_SCHEMAS[model];
    if (!schema) return sendJson(res, 404, { detail: 'Not Found' });

    const fault = faults.take();
    if (fault?.kind === 'echo_credential') {
      const seen = credentialsSeen(request.headers);
      return sendJson(res, fault.status, {
        detail:
          fault.status === 401
            ? `Not authenticated - Invalid Authentication: ${seen}`
            : `Internal Server Error handling ${seen}`,
      });
    }
    if (fault?.kind === 'slow') await delay(fault.delayMs, res);
    if (fault?.kind === 'rate_limit')
      return sendJson(
        res,
        429,
        { detail: 'You have reached the maximum number of active tasks (24). Wait for a task to finish.' },
        { 'retry-after': String(fault.retryAfterMs / 1000) },
      );
    if (fault?.kind === 'server_error')
      return sendJson(res, fault.status, {
        detail: fault.status === 500 ? 'Internal Server Error' : 'Service temporarily unavailable',
      });
    if (fault?.kind === 'invalid')
      return sendJson(res, 400, { detail: 'Invalid request: prompt was rejected' });

    const parsed = (schema as z.ZodType<Record<string, unknown>>).safeParse(request.body);
    if (!parsed.success) return sendJson(res, 422, { detail: fastApiDetail(parsed.error, request.body) });
    const body = parsed.data as {
      prompt: string;
      width?: number;
      height?: number;
      aspect_ratio?: string;
      seed?: number;
      output_format?: 'jpeg' | 'png';
    };
    const [width, height] = sizeOf(model, body);
    const id = randomUUID();
    let outcome: Outcome = planned.shift() ?? { kind: 'ready' };
    if (fault?.kind === 'moderation') outcome = { kind: 'status', status: 'Request Moderated' };
    if (fault?.kind === 'stuck') outcome = { kind: 'stuck' };
    if (fault?.kind === 'malformed') outcome = { kind: 'malformed', variant: fault.variant };
    if (body.prompt.toLowerCase().includes(moderationWord))
      outcome = {
        kind: 'status',
        status: 'Content Moderated',
        details: { 'Moderation Reasons': ['Derivative Works Filter'] },
      };
    seedCounter += 7919;
    jobs.set(id, {
      id,
      prompt: body.prompt,
      width,
      height,
      seed: body.seed ?? seedCounter,
      format: body.output_format ?? (model.startsWith('flux-kontext') ? 'png' : 'jpeg'),
      polls: 0,
      outcome,
    });
    const megapixels = Math.round((width * height) / 10_000) / 100;
    sendJson(res, 200, {
      id,
      polling_url: `${url}/v1/get_result?id=${id}`,
      cost: COST[model] ?? 3,
      input_mp: 0,
      output_mp: megapixels,
    });
  }

  function result(res: ServerResponse, id: string | null) {
    const job = id ? jobs.get(id) : undefined;
    if (!job)
      return sendJson(res, 200, {
        id,
        status: 'Task not found',
        result: null,
        progress: null,
        details: null,
      });
    job.polls += 1;
    const base = { id: job.id, details: null, preview: null };
    const { outcome } = job;
    if (outcome.kind === 'status' && outcome.status === 'Task not found')
      return sendJson(res, 200, { ...base, id, status: 'Task not found', result: null, progress: null });
    if (outcome.kind === 'stuck' || job.polls <= pendingPolls)
      return sendJson(res, 200, {
        ...base,
        status: 'Pending',
        result: null,
        progress: outcome.kind === 'stuck' ? 0 : job.polls / (pendingPolls + 1),
      });
    if (outcome.kind === 'status')
      return sendJson(res, 200, {
        ...base,
        status: outcome.status,
        result: null,
        progress: null,
        details: outcome.details ?? null,
      });
    const sampleUrl = `${url}/samples/${job.id}.${job.format}?se=${Date.now() + 600_000}&sig=fake`;
    const ready = {
      sample: sampleUrl,
      prompt: job.prompt,
      seed: job.seed,
      start_time: Date.now() / 1000 - 1,
      end_time: Date.now() / 1000,
      duration: 1,
    };
    if (outcome.kind === 'malformed') {
      if (outcome.variant === 'wrong_content_type')
        return sendBytes(res, 200, Buffer.from('<html>maintenance</html>'), 'text/html');
      if (outcome.variant === 'missing_fields')
        return sendJson(res, 200, {
          ...base,
          status: 'Ready',
          result: { prompt: job.prompt, seed: job.seed },
          progress: 1,
        });
      if (outcome.variant === 'empty_list')
        return sendJson(res, 200, { ...base, status: 'Ready', result: null, progress: 1 });
    }
    sendJson(res, 200, { ...base, status: 'Ready', result: ready, progress: 1 });
  }

  async function sample(res: ServerResponse, path: string): Promise<void> {
    const job = jobs.get(/^\/samples\/([^.]+)\./.exec(path)?.[1] ?? '');
    if (!job)
      return sendBytes(res, 404, Buffer.from('<Error><Code>NoSuchKey</Code></Error>'), 'application/xml');
    if (job.outcome.kind === 'malformed' && job.outcome.variant === 'not_image')
      return sendBytes(res, 200, Buffer.from('not an image at all'), `image/${job.format}`);
    const image = await fakeImage({
      prompt: job.prompt,
      width: job.width,
      height: job.height,
      seed: job.seed,
      format: job.format,
    });
    sendBytes(res, 200, image.bytes, image.mediaType);
  }

  const server = await state.serve(handle, (res, error) => sendJson(res, 500, { detail: String(error) }));
  url = server.url;

  return {
    ...state.fake(server, apiKey, () => {
      planned.length = 0;
    }),
    failNextJob: (details) => planned.push({ kind: 'status', status: 'Error', details }),
    loseNextJob: () => planned.push({ kind: 'status', status: 'Task not found' }),
  };
}

/** Native pixels: width/height where the endpoint takes them, else about 1 MP at the aspect ratio. */
function sizeOf(
  model: string,
  body: { width?: number; height?: number; aspect_ratio?: string },
): [number, number] {
  if (body.aspect_ratio !== undefined || model.includes('ultra') || model.includes('kontext')) {
    const [w, h] = (body.aspect_ratio ?? (model.includes('ultra') ? '16:9' : '1:1'))
      .split(':')
      .map(Number) as [number, number];
    const scale = Math.sqrt(1_048_576 / (w * h));
    return [Math.round((w * scale) / 32) * 32, Math.round((h * scale) / 32) * 32];
  }
  const fallback = model.startsWith('flux-2') ? [1024, 1024] : [1024, 768];
  return [body.width ?? fallback[0]!, body.height ?? fallback[1]!];
}
