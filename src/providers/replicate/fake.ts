import { randomBytes } from 'node:crypto';
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
import {
  FluxDevInputSchema,
  FluxProInputSchema,
  FluxSchnellInputSchema,
  ModelPredictionBodySchema,
  PREFER_WAIT_RE,
  type PredictionStatus,
  SdxlInputSchema,
  TERMINAL_STATUSES,
  VersionPredictionBodySchema,
} from './wire.ts';

/**
 * A local stand-in for api.replicate.com/v1: official-model and version predictions, `Prefer: wait`
 * holds, polling, cancel, `Cancel-After` deadlines, problem-details errors, and output files served
 * like replicate.delivery (no auth).
 */
export interface ReplicateFakeOptions {
  apiKey?: string;
  /** How long a prediction runs before it succeeds (half `starting`, half `processing`). Default 0. */
  jobMs?: number;
  /** Longest a `Prefer: wait` hold lasts here (the real API holds up to 60 s); keeps tests fast. Default 100. */
  holdCapMs?: number;
}

/** Replicate-specific faults: status reads (`GET /predictions/{id}`) failing while the job runs on. */
export type ReplicateFault = Fault | { kind: 'poll_error'; times: number; status: 429 | 500 | 503 };

interface ModelSpec {
  schema: z.ZodType<Record<string, unknown>>;
  /** flux-1.1-pro returns one URL string; the others a list. */
  single: boolean;
}

const OFFICIAL: Record<string, ModelSpec> = {
  'black-forest-labs/flux-schnell': { schema: FluxSchnellInputSchema, single: false },
  'black-forest-labs/flux-dev': { schema: FluxDevInputSchema, single: false },
  'black-forest-labs/flux-1.1-pro': { schema: FluxProInputSchema, single: true },
};
/** Any 64-hex version is served as stability-ai/sdxl. */
const VERSION_MODEL: ModelSpec = { schema: SdxlInputSchema, single: false };
const VERSION_RE = /^[0-9a-f]{64}$/;

/** FLUX aspect ratios at 1 megapixel (cog-flux's table). */
export const FLUX_RATIO_PIXELS: Record<string, [number, number]> = {
  '1:1': [1024, 1024],
  '16:9': [1344, 768],
  '21:9': [1536, 640],
  '3:2': [1216, 832],
  '2:3': [832, 1216],
  '4:5': [896, 1088],
  '5:4': [1088, 896],
  '3:4': [896, 1152],
  '4:3': [1152, 896],
  '9:16': [768, 1344],
  '9:21': [640, 1536],
};

export const NSFW_MESSAGE = 'NSFW content detected. Try running it again, or try a different prompt.';

interface Job {
  id: string;
  model: string;
  version: string;
  input: Record<string, unknown>;
  spec: ModelSpec;
  createdAt: number;
  status: PredictionStatus;
  completedAt?: number;
  seed: number;
  steps: number;
  cancelAfterMs?: number;
  stuck: boolean;
  moderated: boolean;
  malformed?: 'not_image' | 'wrong_content_type' | 'empty_list';
  files: Array<{ name: string; bytes: Uint8Array; type: string }>;
}

export async function startReplicateFake(
  options: ReplicateFakeOptions = {},
): Promise<FakeServer & { inject(fault: ReplicateFault): void }> {
  const apiKey = options.apiKey ?? 'r8_fakeReplicateToken0000';
  const jobMs = options.jobMs ?? 0;
  const holdCapMs = options.holdCapMs ?? 100;
  const state = new FakeState();
  const { cancelled: cancelledIds, faults } = state;
  const pollFaults: Array<{ status: number; left: number }> = [];
  const jobs = new Map<string, Job>();
  let baseUrl = '';

  function problem(res: ServerResponse, status: number, title: string, detail: string, extra = {}) {
    sendJson(
      res,
      status,
      { title, detail, status, ...extra },
      { 'content-type': 'application/problem+json' },
    );
  }

  /** Moves a job along its timeline; Cancel-After wins over everything still running. */
  function advance(job: Job): Job {
    if (TERMINAL_STATUSES.has(job.status)) return job;
    const elapsed = Date.now() - job.createdAt;
    if (!job.stuck && elapsed >= jobMs / 2) job.status = 'processing';
    if (job.cancelAfterMs !== undefined && elapsed >= job.cancelAfterMs) {
      job.status = job.status === 'starting' ? 'aborted' : 'canceled';
    } else if (!job.stuck && elapsed >= jobMs) {
      job.status = job.moderated ? 'failed' : 'succeeded';
    }
    if (TERMINAL_STATUSES.has(job.status)) job.completedAt = Date.now();
    return job;
  }

  function logsOf(job: Job): string {
    if (job.status === 'starting' || job.status === 'aborted') return '';
    const lines = [`Using seed: ${job.seed}`];
    const done = job.status === 'processing' ? Math.floor(job.steps / 2) : job.steps;
    for (const step of [0, done]) {
      const pct = Math.round((step / job.steps) * 100);
      lines.push(
        `${String(pct).padStart(3)}%|${'█'.repeat(pct / 10)}${' '.repeat(10 - pct / 10)}| ${step}/${job.steps}`,
      );
    }
    return lines.join('\n');
  }

  function view(job: Job): Record<string, unknown> {
    const urls = job.files.map((file) => `${baseUrl}/delivery/${job.id}/${file.name}`);
    let output: unknown = null;
    if (job.status === 'succeeded')
      output = job.malformed === 'empty_list' ? [] : job.spec.single ? (urls[0] ?? null) : urls;
    const iso = (ms?: number) => (ms === undefined ? null : new Date(ms).toISOString());
    return {
      id: job.id,
      model: job.model,
      version: job.version,
      input: job.input,
      logs: logsOf(job),
      output,
      data_removed: false,
      error: job.status === 'failed' ? NSFW_MESSAGE : null,
      status: job.status,
      source: 'api',
      created_at: iso(job.createdAt),
      started_at: job.status === 'starting' || job.status === 'aborted' ? null : iso(job.createdAt),
      completed_at: iso(job.completedAt),
      ...(job.status === 'succeeded'
        ? { metrics: { predict_time: jobMs / 1000, image_count: urls.length } }
        : {}),
      urls: {
        get: `${baseUrl}/v1/predictions/${job.id}`,
        cancel: `${baseUrl}/v1/predictions/${job.id}/cancel`,
        web: `https://replicate.com/p/${job.id}`,
      },
    };
  }

  /** Renders the outputs up front (with the input's defaults applied), served once the job succeeds. */
  async function renderOutputs(job: Job, input: Record<string, unknown>): Promise<void> {
    let [width, height] = FLUX_RATIO_PIXELS[String(input.aspect_ratio ?? '1:1')] ?? [1024, 1024];
    if (job.spec === VERSION_MODEL || input.aspect_ratio === 'custom') {
      const step = job.spec === VERSION_MODEL ? 8 : 32;
      width = Math.round(Number(input.width ?? 1024) / step) * step;
      height = Math.round(Number(input.height ?? 1024) / step) * step;
    }
    if (input.megapixels === '0.25') [width, height] = [width / 2, height / 2];
    const ext = String(input.output_format ?? 'png');
    const format = ext === 'jpg' ? 'jpeg' : (ext as 'png' | 'webp');
    const count = job.spec.single ? 1 : Number(input.num_outputs ?? 1);
    for (let index = 0; index < count; index++) {
      const image = await fakeImage({
        prompt: String(input.prompt),
        width,
        height,
        seed: (job.seed + index) >>> 0,
        format,
      });
      job.files.push({ name: `out-${index}.${ext}`, bytes: image.bytes, type: image.mediaType });
    }
  }

  async function createPrediction(
    res: ServerResponse,
    modelPath: string | undefined,
    body: unknown,
    headers: Record<string, string>,
  ) {
    let spec: ModelSpec | undefined;
    let version = '';
    let rawInput: Record<string, unknown>;
    if (modelPath !== undefined) {
      spec = OFFICIAL[modelPath];
      if (!spec) return problem(res, 404, 'Not found', 'The requested resource could not be found.');
      const parsed = ModelPredictionBodySchema.safeParse(body);
      if (!parsed.success) return invalid(res, parsed.error.issues, '');
      rawInput = parsed.data.input;
      version = 'hidden';
    } else {
      const parsed = VersionPredictionBodySchema.safeParse(body);
      if (!parsed.success) return invalid(res, parsed.error.issues, '');
      if (!VERSION_RE.test(parsed.data.version))
        return problem(
          res,
          422,
          'Invalid version or not permitted',
          'The specified version does not exist (or perhaps you do not have permission to use it?)',
        );
      spec = VERSION_MODEL;
      version = parsed.data.version;
      rawInput = parsed.data.input;
    }
    const input = spec.schema.safeParse(rawInput);
    if (!input.success) return invalid(res, input.error.issues, 'input.');

    let cancelAfterMs: number | undefined;
    if (headers['cancel-after'] !== undefined) {
      cancelAfterMs = parseGoDuration(headers['cancel-after']);
      if (cancelAfterMs === undefined)
        return problem(
          res,
          400,
          'Invalid Cancel-After header',
          `could not parse "${headers['cancel-after']}"`,
        );
    }
    const fault = faults.take(['moderation', 'stuck', 'malformed']);
    if (fault?.kind === 'malformed' && fault.variant === 'missing_fields')
      return sendJson(res, 201, { id: newId(), status: 'succeeded' });
    const sentSeed = input.data.seed;
    const job: Job = {
      id: newId(),
      model: modelPath ?? 'stability-ai/sdxl',
      version,
      input: rawInput,
      spec,
      createdAt: Date.now(),
      status: 'starting',
      seed: typeof sentSeed === 'number' ? sentSeed : randomBytes(4).readUInt32BE() >>> 1,
      steps: Number(input.data.num_inference_steps ?? 28),
      ...(cancelAfterMs !== undefined ? { cancelAfterMs } : {}),
      stuck: fault?.kind === 'stuck',
      moderated: fault?.kind === 'moderation',
      ...(fault?.kind === 'malformed' && fault.variant !== 'missing_fields'
        ? { malformed: fault.variant }
        : {}),
      files: [],
    };
    if (!job.stuck && !job.moderated) await renderOutputs(job, input.data);
    job.createdAt = Date.now(); // the job's clock starts once it is queued
    jobs.set(job.id, job);

    const prefer = headers.prefer;
    if (prefer !== undefined && PREFER_WAIT_RE.test(prefer)) {
      const asked = prefer.includes('=') ? Number(prefer.split('=')[1]) * 1000 : 60_000;
      const until = Date.now() + Math.min(asked, holdCapMs);
      let closed = false;
      res.once('close', () => {
        closed = true;
      });
      while (!TERMINAL_STATUSES.has(advance(job).status) && Date.now() < until && !closed)
        await delay(5, res);
    }
    advance(job);
    sendJson(res, TERMINAL_STATUSES.has(job.status) ? 201 : 202, view(job));
  }

  function invalid(res: ServerResponse, issues: z.core.$ZodIssue[], prefix: string) {
    const invalidFields = issues.map((issue) => {
      const field = prefix + (issue.path.map(String).join('.') || '(root)');
      const description =
        issue.code === 'unrecognized_keys'
          ? `Additional property ${issue.keys.join(', ')} is not allowed`
          : issue.message;
      return { type: issue.code, field, description };
    });
    problem(
      res,
      422,
      'Input validation failed',
      invalidFields.map((f) => `- ${f.field}: ${f.description}`).join('\n'),
      { invalid_fields: invalidFields },
    );
  }

  async function handle(request: ParsedRequest, res: ServerResponse): Promise<void> {
    const path = request.url.pathname;

    const file = /^\/delivery\/([^/]+)\/([^/]+)$/.exec(path);
    if (file && request.method === 'GET') {
      const job = jobs.get(file[1]!);
      const found = job?.files.find((f) => f.name === file[2]);
      if (!job || !found) return sendBytes(res, 404, new TextEncoder().encode('Not found'), 'text/plain');
      if (job.malformed === 'wrong_content_type')
        return sendBytes(res, 200, new TextEncoder().encode('<html><body>ok</body></html>'), 'text/html');
      if (job.malformed === 'not_image')
        return sendBytes(res, 200, new TextEncoder().encode('this is not an image'), found.type);
      return sendBytes(res, 200, found.bytes, found.type);
    }

    if (request.headers.authorization !== `Bearer ${apiKey}`)
      return problem(res, 401, 'Unauthenticated', 'You did not pass a valid authentication token');

    const official = /^\/v1\/models\/([^/]+\/[^/]+)\/predictions$/.exec(path);
    if (request.method === 'POST' && (official || path === '/v1/predictions')) {
      const fault = faults.take(['rate_limit', 'server_error', 'invalid', 'slow', 'echo_credential']);
      if (fault?.kind === 'echo_credential') {
        const seen = credentialsSeen(request.headers);
        return fault.status === 401
          ? problem(res, 401, 'Unauthenticated', `Invalid authentication token: ${seen}`)
          : problem(res, 500, 'Internal Server Error', `An unexpected error occurred handling ${seen}`);
      }
      if (fault?.kind === 'rate_limit') {
        // The real API words the wait in the message; fractional seconds keep tests fast.
        const seconds = fault.retryAfterMs / 1000;
        return sendJson(res, 429, {
          detail: `Request was throttled. Your rate limit resets in ~${seconds}s.`,
        });
      }
      if (fault?.kind === 'server_error')
        return problem(res, fault.status, 'Internal Server Error', 'An unexpected error occurred.');
      if (fault?.kind === 'invalid')
        return invalid(
          res,
          [{ code: 'custom', path: ['num_outputs'], message: 'Must be less than or equal to 4', input: 9 }],
          'input.',
        );
      if (fault?.kind === 'slow') await delay(fault.delayMs, res);
      return createPrediction(res, official?.[1], request.body, request.headers);
    }

    const one = /^\/v1\/predictions\/([^/]+)(\/cancel)?$/.exec(path);
    const job = one ? jobs.get(one[1]!) : undefined;
    if (one && !job) return problem(res, 404, 'Not found', 'The requested resource could not be found.');
    if (job && one?.[2] && request.method === 'POST') {
      if (!TERMINAL_STATUSES.has(advance(job).status)) {
        job.status = 'canceled';
        job.completedAt = Date.now();
        cancelledIds.push(job.id);
      }
      return sendJson(res, 200, view(job));
    }
    if (job && !one?.[2] && request.method === 'GET') {
      const pollFault = pollFaults[0];
      if (pollFault) {
        pollFault.left -= 1;
        if (pollFault.left <= 0) pollFaults.shift();
        if (pollFault.status === 429)
          return sendJson(res, 429, { detail: 'Request was throttled. Your rate limit resets in ~0.01s.' });
        return problem(res, pollFault.status, 'Internal Server Error', 'An unexpected error occurred.');
      }
      return sendJson(res, 200, view(advance(job)));
    }
    return problem(res, 404, 'Not found', 'The requested resource could not be found.');
  }

  const server = await state.serve(handle, (res, error) =>
    problem(res, 500, 'Internal Server Error', String(error)),
  );
  baseUrl = server.url;

  return {
    ...state.fake(server, apiKey, () => {
      pollFaults.length = 0;
      jobs.clear();
    }),
    url: `${server.url}/v1`,
    inject(fault: ReplicateFault) {
      if (fault.kind !== 'poll_error') faults.add(fault);
      else if (fault.times > 0) pollFaults.push({ status: fault.status, left: fault.times });
    },
  };
}

function newId(): string {
  // Replicate ids look like `gm3qorzdhgbfurvjtvhg6dckhu`: 26 lowercase base32 characters.
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return [...randomBytes(26)].map((byte) => alphabet[byte % 32]).join('');
}

/** `Cancel-After` takes Go-style durations: `5m`, `1m30s`, `90s`, `250ms`. */
export function parseGoDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(trimmed)) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  let total = 0;
  for (const match of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g))
    total += Number(match[1]) * unit[match[2] as keyof typeof unit];
  return total;
}
