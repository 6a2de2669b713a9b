// Native fetch, not @ai-sdk/replicate: its image model never polls past the 60 s `Prefer: wait` hold
// (vercel/ai#20997), cannot cancel, and drops the prediction id and logs (where the seed is).
import { PixelError } from '../../protocol/errors.ts';
import {
  cancelled,
  checkImage,
  classifyHttpFailure,
  malformed,
  networkFailure,
  parseRetryAfter,
  parseWaitFromMessage,
  readJson,
  sleep,
} from '../common/http.ts';
import type { ProviderAdapter, ProviderCall, ProviderImage, ProviderResult } from '../types.ts';
import { type Prediction, PredictionSchema, type Problem, ProblemSchema, TERMINAL_STATUSES } from './wire.ts';

const PROVIDER = 'replicate';
/** Consecutive failed status reads tolerated before the prediction is given up (and cancelled). */
const MAX_TRANSIENT_POLL_FAILURES = 3;

export interface ReplicateAdapterConfig {
  apiKey: string;
  /** e.g. `https://api.replicate.com/v1` */
  baseURL: string;
  fetch?: typeof fetch;
  /** Delay between polls of `urls.get` once the `Prefer: wait` hold returned an unfinished prediction. */
  pollIntervalMs?: number;
  /** `Prefer: wait=n` seconds (1–60); 0 sends no Prefer header (plain async mode). */
  waitSeconds?: number;
  /** Replicate's `Cancel-After` deadline header, e.g. `5m`. */
  cancelAfter?: string;
  /**
   * When the caller aborts while the create request is still held by `Prefer: wait`, the prediction id
   * is not known yet: keep the request open this long to learn it and cancel the prediction.
   */
  cancelGraceMs?: number;
  /** Bound on the whole poll loop when the caller gave no deadline. */
  maxWaitMs?: number;
}

export function createReplicateAdapter(config: ReplicateAdapterConfig): ProviderAdapter {
  const doFetch = config.fetch ?? globalThis.fetch;
  const base = config.baseURL.replace(/\/+$/, '');
  const baseOrigin = new URL(base).origin;
  const pollIntervalMs = config.pollIntervalMs ?? 1000;
  const waitSeconds = Math.min(60, Math.max(0, Math.round(config.waitSeconds ?? 60)));
  const cancelGraceMs = config.cancelGraceMs ?? 5000;
  const maxWaitMs = config.maxWaitMs ?? 30 * 60_000;
  const auth = { authorization: `Bearer ${config.apiKey}` };

  /** Our key goes only to Replicate's own origin, never to a URL a response handed us elsewhere. */
  const sameOrigin = (url: string) => {
    try {
      return new URL(url).origin === baseOrigin;
    } catch {
      return false;
    }
  };
  const predictionUrl = (p: Prediction, which: 'get' | 'cancel') =>
    sameOrigin(p.urls[which])
      ? p.urls[which]
      : `${base}/predictions/${encodeURIComponent(p.id)}${which === 'cancel' ? '/cancel' : ''}`;

  async function parsePrediction(response: Response): Promise<Prediction> {
    if (!response.ok) throw await httpError(response);
    const parsed = PredictionSchema.safeParse(await readJson(PROVIDER, response));
    if (!parsed.success)
      throw malformed(PROVIDER, `returned a prediction without ${describeIssue(parsed.error)}`);
    return parsed.data;
  }

  async function create(call: ProviderCall): Promise<Prediction> {
    const body = call.body;
    const modelPath = call.model.providerModelId.split(':')[0]!;
    const url =
      typeof body.version === 'string' ? `${base}/predictions` : `${base}/models/${modelPath}/predictions`;
    const headers: Record<string, string> = { ...auth, 'content-type': 'application/json' };
    if (waitSeconds > 0) headers.prefer = waitSeconds === 60 ? 'wait' : `wait=${waitSeconds}`;
    if (config.cancelAfter) headers['cancel-after'] = config.cancelAfter;

    // The create request does not follow the caller's signal at once (see cancelGraceMs).
    const held = new AbortController();
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      graceTimer = setTimeout(() => held.abort(call.signal?.reason), cancelGraceMs);
    };
    call.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await doFetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: held.signal,
      });
      const prediction = await parsePrediction(response);
      if (call.signal?.aborted) {
        await cancelPrediction(prediction);
        throw cancelled(call.signal);
      }
      return prediction;
    } catch (error) {
      throw networkFailure(PROVIDER, error, call.signal);
    } finally {
      clearTimeout(graceTimer);
      call.signal?.removeEventListener('abort', onAbort);
    }
  }

  async function cancelPrediction(prediction: Prediction): Promise<void> {
    if (TERMINAL_STATUSES.has(prediction.status)) return;
    try {
      const response = await doFetch(predictionUrl(prediction, 'cancel'), {
        method: 'POST',
        headers: auth,
        signal: AbortSignal.timeout(10_000),
      });
      await response.body?.cancel();
    } catch {
      // Best effort: the caller's cancellation is reported either way.
    }
  }

  async function poll(call: ProviderCall, first: Prediction): Promise<Prediction> {
    let prediction = first;
    const deadline = Date.now() + maxWaitMs;
    let transient = 0;
    let wait = pollIntervalMs;
    reportProgress(call, prediction);
    while (!TERMINAL_STATUSES.has(prediction.status)) {
      if (Date.now() > deadline) {
        await cancelPrediction(prediction);
        throw new PixelError({
          code: 'deadline_exceeded',
          reason: 'timeout',
          provider: PROVIDER,
          providerRequestId: prediction.id,
          message: `replicate prediction ${prediction.id} still ${prediction.status} after ${maxWaitMs} ms`,
        });
      }
      try {
        await sleep(wait, call.signal);
        const response = await doFetch(predictionUrl(prediction, 'get'), {
          headers: auth,
          signal: call.signal,
        });
        prediction = await parsePrediction(response);
        transient = 0;
        wait = pollIntervalMs;
      } catch (error) {
        const failure = networkFailure(PROVIDER, error, call.signal);
        // A 429 or 5xx on a status read does not doom the prediction: keep it and read again later.
        if (failure.retryable && !call.signal?.aborted && transient < MAX_TRANSIENT_POLL_FAILURES) {
          transient += 1;
          wait = Math.max(pollIntervalMs, failure.retryAfterMs ?? 0);
          continue;
        }
        await cancelPrediction(prediction);
        throw failure;
      }
      reportProgress(call, prediction);
    }
    return prediction;
  }

  async function download(url: string, signal?: AbortSignal): Promise<ProviderImage> {
    let response: Response;
    try {
      response = await doFetch(url, { headers: sameOrigin(url) ? auth : {}, signal });
    } catch (error) {
      throw networkFailure(PROVIDER, error, signal);
    }
    if (!response.ok) throw await httpError(response);
    const type = response.headers.get('content-type') ?? '';
    if (type && !/^(image\/|application\/octet-stream)/i.test(type)) {
      await response.body?.cancel();
      throw malformed(PROVIDER, `served an output file as ${type}, not an image`);
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    return checkImage(PROVIDER, bytes, type || undefined);
  }

  return {
    name: 'replicate',
    async generate(call: ProviderCall): Promise<ProviderResult> {
      if (call.signal?.aborted) throw cancelled(call.signal);
      const prediction = await poll(call, await create(call));
      const finished = finalOutcome(prediction, config.cancelAfter !== undefined);
      const urls = typeof finished.output === 'string' ? [finished.output] : (finished.output ?? []);
      if (urls.length === 0)
        throw malformed(PROVIDER, `prediction ${prediction.id} succeeded with no output`);
      const seed = seedOf(prediction, call.body);
      const images = await Promise.all(urls.map((url) => download(url, call.signal)));
      const notes: string[] = [];
      if (images.length < call.count)
        notes.push(`replicate returned ${images.length} of ${call.count} images asked for`);
      return {
        images: images.map((image, index) => ({
          ...image,
          // Replicate derives each further output's seed from the first; only the first is known.
          ...(seed !== undefined && index === 0 ? { seed } : {}),
        })),
        requestId: prediction.id,
        ...(prediction.metrics ? { usage: { ...prediction.metrics } } : {}),
        ...(notes.length > 0 ? { notes } : {}),
      };
    },
  };
}

/** Turns a terminal prediction into its output, or the error its status and message mean. */
function finalOutcome(prediction: Prediction, sentCancelAfter: boolean): Prediction {
  const base = { provider: PROVIDER, providerRequestId: prediction.id };
  if (prediction.status === 'succeeded') return prediction;
  if (prediction.status === 'failed') {
    const message = errorText(prediction.error) || 'prediction failed without a message';
    if (/nsfw|flagged as sensitive|\bE005\b|safety filter/i.test(message))
      return fail({
        ...base,
        code: 'permission_denied',
        reason: 'content_moderated',
        retryable: false,
        message: `replicate refused the content: ${message}`,
      });
    if (/\b(invalid|validation|must be|not supported|out of range|ValueError)\b/i.test(message))
      return fail({
        ...base,
        code: 'invalid_argument',
        reason: 'provider_error',
        message: `replicate: ${message}`,
      });
    return fail({
      ...base,
      code: 'unavailable',
      reason: 'provider_unavailable',
      retryable: true,
      message: `replicate prediction failed: ${message}`,
    });
  }
  // canceled / aborted that we did not ask for: the Cancel-After deadline, or someone else (web UI).
  if (sentCancelAfter)
    return fail({
      ...base,
      code: 'deadline_exceeded',
      reason: 'timeout',
      message: `replicate ${prediction.status} the prediction at its Cancel-After deadline`,
    });
  return fail({
    ...base,
    code: 'cancelled',
    reason: 'cancelled',
    message: `replicate prediction was ${prediction.status} outside Pixel`,
  });
}

function fail(options: ConstructorParameters<typeof PixelError>[0]): never {
  throw new PixelError(options);
}

function errorText(error: unknown): string {
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object') return JSON.stringify(error);
  return '';
}

/** Replicate has no seed field: cog models print `Using seed: N`; else the seed we sent. */
function seedOf(prediction: Prediction, body: Record<string, unknown>): number | undefined {
  const logged = [...(prediction.logs ?? '').matchAll(/Using seed:\s*(\d+)/gi)].at(-1)?.[1];
  if (logged !== undefined) return Number(logged);
  const input = prediction.input ?? (body.input as Record<string, unknown> | undefined) ?? {};
  const sent = input.seed;
  return typeof sent === 'number' && Number.isInteger(sent) ? sent : undefined;
}

function reportProgress(call: ProviderCall, prediction: Prediction): void {
  if (!call.onProgress) return;
  // tqdm lines in the logs (" 50%|█████     | 2/4") are the only progress Replicate gives.
  const percent = [...(prediction.logs ?? '').matchAll(/(\d{1,3})%\|/g)].at(-1)?.[1];
  call.onProgress({
    status: prediction.status,
    ...(percent !== undefined ? { fraction: Math.min(1, Number(percent) / 100) } : {}),
  });
}

async function httpError(response: Response): Promise<PixelError> {
  const text = await response.text();
  let problem: Problem | undefined;
  try {
    const parsed = ProblemSchema.safeParse(JSON.parse(text));
    if (parsed.success) problem = parsed.data;
  } catch {
    // Not JSON (a proxy's HTML page): the status decides.
  }
  const fields = problem?.invalid_fields ?? [];
  let message = problem?.detail ?? problem?.title ?? text.slice(0, 200);
  if (problem?.title && problem.detail && fields.length > 0) message = `${problem.title}: ${problem.detail}`;
  const retryAfterMs =
    parseRetryAfter(response.headers) ??
    (response.status === 429 ? parseWaitFromMessage(message) : undefined);
  const error = classifyHttpFailure({
    provider: PROVIDER,
    status: response.status,
    headers: response.headers,
    message,
    retryAfterMs,
  });
  const field = fields[0]?.field;
  if (field === undefined) return error;
  return new PixelError({
    code: error.code,
    reason: error.reason,
    retryable: error.retryable,
    provider: PROVIDER,
    providerStatus: error.providerStatus,
    message: error.message,
    field,
  });
}

function describeIssue(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  const issue = error.issues[0];
  return issue ? `a valid ${issue.path.join('.') || 'body'} (${issue.message})` : 'the expected fields';
}
