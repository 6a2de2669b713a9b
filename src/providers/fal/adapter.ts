// Native fetch adapter: @ai-sdk/fal's image model only calls the sync endpoint (no queue, status,
// cancel or request id), and its queue code (video) hard-codes queue.fal.run paths instead of the
// returned URLs, so it cannot poll beyond the sync cap or cancel.
import { PixelError } from '../../protocol/errors.ts';
import { fastApiFailure, fastApiMessage } from '../common/fastapi.ts';
import { checkImage, decodeBase64Image, malformed, networkFailure, readJson } from '../common/http.ts';
import { pollUntilDone } from '../common/poll.ts';
import type { ProviderAdapter, ProviderCall, ProviderImage, ProviderResult } from '../types.ts';
import {
  FalMessageErrorSchema,
  type FalOutput,
  FalOutputSchema,
  QueueStatusSchema,
  QueueSubmitSchema,
} from './wire.ts';

const PROVIDER = 'fal';

export interface FalAdapterConfig {
  apiKey: string;
  /** `https://queue.fal.run` in production. */
  queueBaseURL: string;
  /** `https://fal.run` in production (sync endpoint). */
  runBaseURL: string;
  /** Queue (default: submit, poll, fetch result, cancel on abort) or the sync endpoint. */
  mode?: 'queue' | 'sync';
  fetch?: typeof fetch;
  /** Delay between status polls (default 500 ms). */
  pollIntervalMs?: number;
  /** Cancel and give up after this long in the queue (default 15 min). */
  maxWaitMs?: number;
}

export function createFalAdapter(config: FalAdapterConfig): ProviderAdapter {
  const doFetch = config.fetch ?? fetch;
  const queueBase = config.queueBaseURL.replace(/\/+$/, '');
  const runBase = config.runBaseURL.replace(/\/+$/, '');
  const pollIntervalMs = config.pollIntervalMs ?? 500;
  const maxWaitMs = config.maxWaitMs ?? 900_000;

  async function send(url: string, init: RequestInit, signal?: AbortSignal, auth = true): Promise<Response> {
    const headers = new Headers(init.headers);
    if (auth) headers.set('authorization', `Key ${config.apiKey}`);
    try {
      return await doFetch(url, { ...init, headers, signal });
    } catch (error) {
      throw networkFailure(PROVIDER, error, signal);
    }
  }

  const jsonPost = (body: Record<string, unknown>): RequestInit => ({
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', accept: 'application/json' },
  });

  async function readOutput(response: Response, requestId?: string): Promise<FalOutput> {
    if (!response.ok) throw await failure(response, requestId);
    const parsed = FalOutputSchema.safeParse(await readJson(PROVIDER, response));
    if (!parsed.success) throw malformed(PROVIDER, `result is missing fields: ${parsed.error.message}`);
    return parsed.data;
  }

  async function sync(call: ProviderCall): Promise<{ output: FalOutput; requestId?: string }> {
    const response = await send(`${runBase}/${call.model.providerModelId}`, jsonPost(call.body), call.signal);
    const requestId = response.headers.get('x-fal-request-id') ?? undefined;
    return { output: await readOutput(response, requestId), ...(requestId ? { requestId } : {}) };
  }

  async function queue(call: ProviderCall): Promise<{ output: FalOutput; requestId: string }> {
    const submitted = await send(
      `${queueBase}/${call.model.providerModelId}`,
      jsonPost(call.body),
      call.signal,
    );
    if (!submitted.ok) throw await failure(submitted);
    const submit = QueueSubmitSchema.safeParse(await readJson(PROVIDER, submitted));
    if (!submit.success)
      throw malformed(PROVIDER, `queue submit response is missing fields: ${submit.error.message}`);
    const { request_id: requestId, status_url: statusUrl, cancel_url: cancelUrl } = submit.data;
    let responseUrl = submit.data.response_url;
    try {
      responseUrl = (await waitUntilDone(call, requestId, statusUrl)) ?? responseUrl;
    } catch (error) {
      // The caller gave up or we ran out of time: free the queue slot before reporting it.
      const gaveUp = call.signal?.aborted || (PixelError.isInstance(error) && error.reason === 'timeout');
      if (gaveUp) await cancelJob(cancelUrl);
      throw error;
    }
    const response = await send(
      responseUrl,
      { method: 'GET', headers: { accept: 'application/json' } },
      call.signal,
    );
    return { output: await readOutput(response, requestId), requestId };
  }

  /** Polls the returned status_url until COMPLETED; returns the response_url it names, if any. */
  function waitUntilDone(call: ProviderCall, requestId: string, statusUrl: string) {
    return pollUntilDone<string | undefined>(
      {
        provider: PROVIDER,
        requestId,
        intervalMs: pollIntervalMs,
        maxWaitMs,
        signal: call.signal,
        timeoutMessage: (polls) => `fal request ${requestId} did not complete after ${polls} polls`,
      },
      async () => {
        const response = await send(
          statusUrl,
          { method: 'GET', headers: { accept: 'application/json' } },
          call.signal,
        );
        if (!response.ok) throw await failure(response, requestId);
        const parsed = QueueStatusSchema.safeParse(await readJson(PROVIDER, response));
        if (!parsed.success)
          throw malformed(PROVIDER, `status response is malformed: ${parsed.error.message}`);
        const { status, queue_position: position, response_url: responseUrl } = parsed.data;
        call.onProgress?.({ status, ...(typeof position === 'number' ? { queuePosition: position } : {}) });
        return status === 'COMPLETED' ? { done: true, value: responseUrl ?? undefined } : { done: false };
      },
    );
  }

  /** Best effort: the caller's signal has already fired, so the cancel gets its own short deadline. */
  async function cancelJob(cancelUrl: string): Promise<void> {
    try {
      const response = await send(cancelUrl, { method: 'PUT' }, AbortSignal.timeout(5_000));
      await response.body?.cancel();
    } catch {
      // The job may already be gone; the caller's error is what matters.
    }
  }

  async function fetchImage(
    url: string,
    declared: string | undefined,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    if (url.startsWith('data:')) return decodeBase64Image(PROVIDER, url, 'images[].url');
    // fal's CDN URLs are public: never send the key there.
    const response = await send(url, { method: 'GET' }, signal, false);
    if (!response.ok) {
      await response.body?.cancel();
      throw new PixelError({
        code: 'unavailable',
        reason: 'provider_error',
        retryable: true,
        provider: PROVIDER,
        providerStatus: response.status,
        message: `fal image could not be downloaded (HTTP ${response.status})`,
      });
    }
    const type = response.headers.get('content-type') ?? declared ?? '';
    if (type && !type.startsWith('image/') && !type.startsWith('application/octet-stream'))
      throw malformed(PROVIDER, `image URL answered with content type ${type}`);
    try {
      return new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      throw networkFailure(PROVIDER, error, signal);
    }
  }

  return {
    name: PROVIDER,
    async generate(call: ProviderCall): Promise<ProviderResult> {
      const { output, requestId } = config.mode === 'sync' ? await sync(call) : await queue(call);
      if (output.images.length === 0) throw malformed(PROVIDER, 'returned no images');
      if (output.images.length < call.count)
        throw malformed(PROVIDER, `returned ${output.images.length} images, ${call.count} requested`);
      // fal replaces a flagged image with a black one and says so in has_nsfw_concepts.
      const flagged = (output.has_nsfw_concepts ?? []).flatMap((nsfw, i) => (nsfw ? [i] : []));
      if (flagged.length > 0)
        throw new PixelError({
          code: 'permission_denied',
          reason: 'content_moderated',
          retryable: false,
          provider: PROVIDER,
          providerRequestId: requestId,
          message: `fal refused the content: has_nsfw_concepts is true for image ${flagged.join(', ')}`,
        });
      const images: ProviderImage[] = [];
      for (const item of output.images) {
        const bytes = await fetchImage(item.url, item.content_type ?? undefined, call.signal);
        const image = await checkImage(PROVIDER, bytes, item.content_type ?? undefined);
        images.push(typeof output.seed === 'number' ? { ...image, seed: output.seed } : image);
      }
      const result: ProviderResult = { images };
      if (requestId) result.requestId = requestId;
      if (output.timings) result.usage = { timings: output.timings };
      return result;
    },
  };
}

/** fal answers FastAPI `detail` bodies, or a `message` field on other errors. */
function errorMessage(body: unknown): string | undefined {
  return fastApiMessage(body) ?? FalMessageErrorSchema.safeParse(body).data?.message;
}

function failure(response: Response, requestId?: string): Promise<PixelError> {
  const id = requestId ?? response.headers.get('x-fal-request-id') ?? undefined;
  return fastApiFailure(PROVIDER, response, id, errorMessage);
}
