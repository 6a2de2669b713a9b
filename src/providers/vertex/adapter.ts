// Native fetch, not @ai-sdk/google-vertex: it builds its own :predict body from abstract options (the
// translated native body cannot pass through) and hides which predictions the RAI filter dropped.
import { PixelError } from '../../protocol/errors.ts';
import {
  cancelled,
  checkImage,
  decodeBase64Image,
  malformed,
  networkFailure,
  readJson,
} from '../common/http.ts';
import { googleHttpError } from '../google/rpc.ts';
import type { ProviderAdapter, ProviderCall, ProviderImage, ProviderResult } from '../types.ts';
import { ImagenPredictResponseSchema } from './wire.ts';

const PROVIDER = 'vertex';

export interface VertexAdapterConfig {
  /** An OAuth2 access token, or a function that returns a fresh one (for a future service-account flow). */
  accessToken: string | (() => Promise<string>);
  project: string;
  location: string;
  /** e.g. `https://us-central1-aiplatform.googleapis.com` */
  baseURL: string;
  fetch?: typeof fetch;
}

/** Vertex refuses sensitive prompts with a 400 whose message cites Google's Responsible AI practices. */
const RAI_REFUSAL =
  /responsible ai|sensitive words|violates? .*(policy|policies)|prompt could not be submitted/i;

export function createVertexAdapter(config: VertexAdapterConfig): ProviderAdapter {
  const doFetch = config.fetch ?? globalThis.fetch;
  const base = config.baseURL.replace(/\/+$/, '');
  const project = encodeURIComponent(config.project);
  const location = encodeURIComponent(config.location);
  const token =
    typeof config.accessToken === 'string' ? async () => config.accessToken as string : config.accessToken;

  return {
    name: 'vertex',
    async generate(call: ProviderCall): Promise<ProviderResult> {
      if (call.signal?.aborted) throw cancelled(call.signal);
      const url = `${base}/v1/projects/${project}/locations/${location}/publishers/google/models/${call.model.providerModelId}:predict`;
      let json: unknown;
      try {
        const response = await doFetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${await token()}`, 'content-type': 'application/json' },
          body: JSON.stringify(call.body),
          signal: call.signal,
        });
        if (!response.ok)
          throw await googleHttpError(PROVIDER, response, (message) => RAI_REFUSAL.test(message));
        json = await readJson(PROVIDER, response);
      } catch (error) {
        throw networkFailure(PROVIDER, error, call.signal);
      }
      const parsed = ImagenPredictResponseSchema.safeParse(json);
      if (!parsed.success) throw malformed(PROVIDER, 'returned a :predict body of the wrong shape');
      const parameters = (call.body.parameters ?? {}) as Record<string, unknown>;
      const asked = typeof parameters.sampleCount === 'number' ? parameters.sampleCount : call.count;

      const predictions = parsed.data.predictions;
      // Imagen answers `{}` when its safety filter dropped every image (and includeRaiReason was off).
      if (predictions === undefined) throw moderated("every image was filtered by Imagen's safety filter");
      if (predictions.length === 0) throw malformed(PROVIDER, 'returned an empty predictions list');

      const seed = seedUsed(parameters);
      const images: ProviderImage[] = [];
      const filtered: string[] = [];
      for (const prediction of predictions) {
        if (prediction.raiFilteredReason) {
          filtered.push(prediction.raiFilteredReason);
          continue;
        }
        if (!prediction.bytesBase64Encoded && prediction.gcsUri)
          throw malformed(
            PROVIDER,
            `wrote the image to ${prediction.gcsUri} (storageUri) instead of returning bytes`,
          );
        const bytes = decodeBase64Image(
          PROVIDER,
          prediction.bytesBase64Encoded,
          'predictions[].bytesBase64Encoded',
        );
        const image = await checkImage(PROVIDER, bytes, prediction.mimeType);
        images.push(seed === undefined ? image : { ...image, seed });
      }
      const why = filtered.length > 0 ? `: ${[...new Set(filtered)].join('; ')}` : '';
      if (images.length === 0) throw moderated(`every image was filtered${why}`);

      const notes: string[] = [];
      if (images.length < asked)
        notes.push(`Imagen's safety filter dropped ${asked - images.length} of ${asked} images${why}`);
      if (parameters.seed !== undefined && seed === undefined)
        notes.push('seed was ignored: Imagen honours a seed only with addWatermark false');
      return { images, ...(notes.length > 0 ? { notes } : {}) };
    },
  };
}

function moderated(what: string): PixelError {
  return new PixelError({
    code: 'permission_denied',
    reason: 'content_moderated',
    retryable: false,
    provider: PROVIDER,
    providerStatus: 200,
    message: `vertex refused the content: ${what}`,
  });
}

/** Imagen uses the seed only when the watermark is off (it defaults to on). */
function seedUsed(parameters: Record<string, unknown>): number | undefined {
  const seed = parameters.seed;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) return undefined;
  return parameters.addWatermark === false ? seed : undefined;
}
