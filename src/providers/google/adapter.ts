// Native fetch, not @ai-sdk/google: it builds its own generateContent body from abstract options (the
// translated native body cannot pass through) and folds every finish/block reason into one "content-filter".
import {
  cancelled,
  checkImage,
  classifyHttpFailure,
  decodeBase64Image,
  malformed,
  networkFailure,
  readJson,
} from '../common/http.ts';
import type { ProviderAdapter, ProviderCall, ProviderImage, ProviderResult } from '../types.ts';
import { googleHttpError } from './rpc.ts';
import { GenerateContentResponseSchema, MODERATION_FINISH_REASONS } from './wire.ts';

const PROVIDER = 'google';

export interface GoogleAdapterConfig {
  apiKey: string;
  /** e.g. `https://generativelanguage.googleapis.com` */
  baseURL: string;
  fetch?: typeof fetch;
  /** API version path segment; image output lives on `v1beta`. */
  apiVersion?: string;
}

export function createGoogleAdapter(config: GoogleAdapterConfig): ProviderAdapter {
  const doFetch = config.fetch ?? globalThis.fetch;
  const base = config.baseURL.replace(/\/+$/, '');
  const apiVersion = config.apiVersion ?? 'v1beta';

  return {
    name: 'google',
    async generate(call: ProviderCall): Promise<ProviderResult> {
      if (call.signal?.aborted) throw cancelled(call.signal);
      const url = `${base}/${apiVersion}/models/${call.model.providerModelId}:generateContent`;
      let response: Response;
      let json: unknown;
      try {
        response = await doFetch(url, {
          method: 'POST',
          headers: { 'x-goog-api-key': config.apiKey, 'content-type': 'application/json' },
          body: JSON.stringify(call.body),
          signal: call.signal,
        });
        if (!response.ok) throw await googleHttpError(PROVIDER, response);
        json = await readJson(PROVIDER, response);
      } catch (error) {
        throw networkFailure(PROVIDER, error, call.signal);
      }
      const parsed = GenerateContentResponseSchema.safeParse(json);
      if (!parsed.success) throw malformed(PROVIDER, 'returned a generateContent body of the wrong shape');
      const result = parsed.data;
      const requestId = result.responseId;
      const refuse = (message: string) => {
        throw classifyHttpFailure({
          provider: PROVIDER,
          status: response.status,
          headers: response.headers,
          message,
          moderated: true,
          ...(requestId !== undefined ? { requestId } : {}),
        });
      };

      // Safety blocks come back as HTTP 200 without an image.
      const block = result.promptFeedback?.blockReason;
      if (block) refuse(`prompt blocked (${block})${suffix(result.promptFeedback?.blockReasonMessage)}`);
      const candidates = result.candidates ?? [];
      if (candidates.length === 0) throw malformed(PROVIDER, 'returned no candidates');

      const images: ProviderImage[] = [];
      const notes: string[] = [];
      const reasons: string[] = [];
      const seed = seedSent(call.body);
      for (const candidate of candidates) {
        const finish = candidate.finishReason;
        if (finish && finish !== 'STOP') reasons.push(`${finish}${suffix(candidate.finishMessage)}`);
        for (const part of candidate.content?.parts ?? []) {
          // Thought parts (interim drafts some models emit while reasoning) are not results.
          if (part.thought) continue;
          if (part.text?.trim()) notes.push(`gemini said: ${part.text.trim().slice(0, 500)}`);
          if (!part.inlineData) continue;
          const bytes = decodeBase64Image(PROVIDER, part.inlineData.data, 'inlineData.data');
          const image = await checkImage(PROVIDER, bytes, part.inlineData.mimeType);
          images.push(seed === undefined ? image : { ...image, seed });
        }
      }
      if (images.length === 0) {
        const moderation = candidates.find(
          (c) => c.finishReason && MODERATION_FINISH_REASONS.has(c.finishReason),
        );
        if (moderation)
          refuse(`image refused (${moderation.finishReason})${suffix(moderation.finishMessage)}`);
        // NO_IMAGE / IMAGE_OTHER, or a text-only answer: Gemini gave no image and said why (or not).
        throw malformed(
          PROVIDER,
          `returned no image${reasons.length > 0 ? ` (finishReason ${reasons.join('; ')})` : ''}${
            notes.length > 0 ? `; ${notes[0]}` : ''
          }`,
        );
      }
      if (images.length < call.count) notes.push(`gemini returned ${images.length} of ${call.count} images`);
      return {
        images,
        ...(requestId !== undefined ? { requestId } : {}),
        ...(result.usageMetadata || result.modelVersion
          ? {
              usage: {
                ...result.usageMetadata,
                ...(result.modelVersion ? { modelVersion: result.modelVersion } : {}),
              },
            }
          : {}),
        ...(notes.length > 0 ? { notes } : {}),
      };
    },
  };
}

function suffix(message: string | undefined): string {
  return message ? `: ${message}` : '';
}

/** Gemini does not echo a seed; the one we sent in generationConfig is the one it used. */
function seedSent(body: Record<string, unknown>): number | undefined {
  const config = body.generationConfig as Record<string, unknown> | undefined;
  const seed = config?.seed;
  return typeof seed === 'number' && Number.isInteger(seed) ? seed : undefined;
}
