// Native fetch adapter: @ai-sdk/black-forest-labs rebuilds the body from its own options (not our exact
// native body), keeps polling on "Request Moderated"/"Content Moderated" until its timeout, throws
// plain Errors for failures and reports no progress, so it cannot give the classification we need.
import { PixelError } from '../../protocol/errors.ts';
import { fastApiFailure } from '../common/fastapi.ts';
import { checkImage, malformed, networkFailure, readJson } from '../common/http.ts';
import { pollUntilDone } from '../common/poll.ts';
import type { ProviderAdapter, ProviderCall, ProviderImage, ProviderResult } from '../types.ts';
import { PollResponseSchema, type ReadyResult, ReadyResultSchema, SubmitResponseSchema } from './wire.ts';

const PROVIDER = 'bfl';

export interface BflAdapterConfig {
  apiKey: string;
  /** `https://api.bfl.ai` in production (or a regional cluster). */
  baseURL: string;
  fetch?: typeof fetch;
  /** Delay between polls of `polling_url` (default 500 ms). */
  pollIntervalMs?: number;
  /** Give up polling after this long (default 10 min, the life of a result). */
  maxWaitMs?: number;
  /** Consecutive "Task not found" answers tolerated right after submit (default 3). */
  notFoundTolerance?: number;
}

/**
 * BFL has no cancel endpoint: on abort the adapter stops polling and throws `cancelled`
 * (or `deadline_exceeded`); the job runs to its end on BFL's side and is charged.
 */
export function createBflAdapter(config: BflAdapterConfig): ProviderAdapter {
  const doFetch = config.fetch ?? fetch;
  const baseURL = config.baseURL.replace(/\/+$/, '');
  const pollIntervalMs = config.pollIntervalMs ?? 500;
  const maxWaitMs = config.maxWaitMs ?? 600_000;
  const notFoundTolerance = config.notFoundTolerance ?? 3;

  async function send(url: string, init: RequestInit, signal?: AbortSignal, auth = true): Promise<Response> {
    const headers = new Headers(init.headers);
    if (auth) headers.set('x-key', config.apiKey);
    try {
      return await doFetch(url, { ...init, headers, signal });
    } catch (error) {
      throw networkFailure(PROVIDER, error, signal);
    }
  }

  async function one(call: ProviderCall): Promise<{ image: ProviderImage; id: string; cost?: number }> {
    const model = encodeURIComponent(call.model.providerModelId);
    const submitted = await send(
      `${baseURL}/v1/${model}`,
      {
        method: 'POST',
        body: JSON.stringify(call.body),
        headers: { 'content-type': 'application/json', accept: 'application/json' },
      },
      call.signal,
    );
    if (!submitted.ok) throw await fastApiFailure(PROVIDER, submitted);
    const submit = SubmitResponseSchema.safeParse(await readJson(PROVIDER, submitted));
    if (!submit.success)
      throw malformed(PROVIDER, `submit response is missing fields: ${submit.error.message}`);
    const { id, polling_url: pollingUrl, cost } = submit.data;
    const result = await poll(id, pollingUrl, call);
    // The signed sample URL expires (10 min): fetch it at once, without our key (it is not BFL's API host).
    const sample = await send(result.sample, { method: 'GET' }, call.signal, false);
    if (!sample.ok)
      throw new PixelError({
        code: 'unavailable',
        reason: 'provider_error',
        retryable: true,
        provider: PROVIDER,
        providerStatus: sample.status,
        providerRequestId: id,
        message: `bfl result sample could not be downloaded (HTTP ${sample.status})`,
      });
    const declared = sample.headers.get('content-type') ?? '';
    if (declared && !declared.startsWith('image/') && !declared.startsWith('application/octet-stream'))
      throw malformed(PROVIDER, `sample answered with content type ${declared}, expected an image`);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await sample.arrayBuffer());
    } catch (error) {
      throw networkFailure(PROVIDER, error, call.signal);
    }
    const checked = await checkImage(PROVIDER, bytes, declared);
    const image = result.seed === undefined ? checked : { ...checked, seed: result.seed };
    return cost === undefined || cost === null ? { image, id } : { image, id, cost };
  }

  async function poll(id: string, pollingUrl: string, call: ProviderCall) {
    let notFound = 0;
    return pollUntilDone<ReadyResult>(
      {
        provider: PROVIDER,
        requestId: id,
        intervalMs: pollIntervalMs,
        maxWaitMs,
        signal: call.signal,
        timeoutMessage: (polls) => `bfl task ${id} was not ready after ${polls} polls`,
      },
      async () => {
        const response = await send(
          pollingUrl,
          { method: 'GET', headers: { accept: 'application/json' } },
          call.signal,
        );
        if (!response.ok) throw await fastApiFailure(PROVIDER, response, id);
        const parsed = PollResponseSchema.safeParse(await readJson(PROVIDER, response));
        if (!parsed.success) throw malformed(PROVIDER, `poll response is malformed: ${parsed.error.message}`);
        const { status, progress, details, result } = parsed.data;
        call.onProgress?.({ status, ...(typeof progress === 'number' ? { fraction: progress } : {}) });
        switch (status) {
          case 'Pending':
            notFound = 0;
            return { done: false };
          case 'Task not found':
            // Right after submit a cluster may not know the task yet; beyond that the job is lost.
            notFound += 1;
            if (notFound <= notFoundTolerance) return { done: false };
            throw new PixelError({
              code: 'unavailable',
              reason: 'task_not_found',
              retryable: true,
              provider: PROVIDER,
              providerRequestId: id,
              message: `bfl lost task ${id} (Task not found after ${notFound} polls)`,
            });
          case 'Request Moderated':
          case 'Content Moderated':
            throw new PixelError({
              code: 'permission_denied',
              reason: 'content_moderated',
              retryable: false,
              provider: PROVIDER,
              providerRequestId: id,
              message: `bfl refused the content: ${status}${detailText(details)}`,
            });
          case 'Error':
            throw new PixelError({
              code: 'unavailable',
              reason: 'provider_error',
              retryable: true,
              provider: PROVIDER,
              providerRequestId: id,
              message: `bfl generation failed${detailText(details) || ' (no details)'}`,
            });
          case 'Ready': {
            const ready = ReadyResultSchema.safeParse(result);
            if (!ready.success)
              throw malformed(PROVIDER, `Ready result has no sample URL: ${ready.error.message}`);
            return { done: true, value: ready.data };
          }
        }
      },
    );
  }

  return {
    name: PROVIDER,
    async generate(call: ProviderCall): Promise<ProviderResult> {
      // BFL makes one image per task; a call for several submits tasks one after another
      // (the reliability layer normally splits n by the catalogue's imagesPerCall = 1).
      const count = Math.max(1, Math.min(call.count, 10));
      const images: ProviderImage[] = [];
      const ids: string[] = [];
      let credits = 0;
      let priced = false;
      for (let i = 0; i < count; i++) {
        const { image, id, cost } = await one(call);
        images.push(image);
        ids.push(id);
        if (cost !== undefined) [credits, priced] = [credits + cost, true];
      }
      const result: ProviderResult = { images, requestId: ids.join(',') };
      // 1 BFL credit = $0.01.
      if (priced) Object.assign(result, { usage: { credits }, costUsd: credits / 100 });
      return result;
    },
  };
}

function detailText(details: unknown): string {
  if (details === undefined || details === null) return '';
  return `: ${typeof details === 'string' ? details : JSON.stringify(details)}`;
}
