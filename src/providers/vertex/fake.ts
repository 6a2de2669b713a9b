import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { RPC_TYPE } from '../google/rpc.ts';
import { retryInfo, sendRpcError, urlNotFound } from '../google/rpc-fake.ts';
import {
  credentialsSeen,
  delay,
  FakeState,
  FaultQueue,
  type ParsedRequest,
  sendBytes,
  sendJson,
} from '../testing/fake-http.ts';
import { fakeImage } from '../testing/fake-image.ts';
import type { FakeServer, Fault } from '../testing/types.ts';
import { IMAGEN_RATIO_PIXELS, ImagenPredictRequestSchema } from './wire.ts';

/**
 * A local stand-in for Vertex AI Imagen `:predict`: OAuth bearer token, project/location path,
 * Google RPC errors, the RAI filter dropping images (fewer predictions, or `{}` when none is left)
 * and refusing sensitive prompts with a 400.
 */
export interface VertexFakeOptions {
  accessToken?: string;
  project?: string;
  models?: string[];
}

/** Imagen-specific outcomes: the filter keeps only `keep` images; a prompt refused with a 400. */
export type VertexFault =
  | Fault
  | { kind: 'filter'; times: number; keep: number }
  | { kind: 'prompt_blocked'; times: number };

export const RAI_REASON =
  'Your current safety filter threshold filtered out 1 generated images. You will not be charged for blocked images. Try rephrasing the prompt. If you think this was an error, send feedback. Support codes: 58061214';

const DEFAULT_MODELS = [
  'imagen-3.0-generate-002',
  'imagen-3.0-fast-generate-001',
  'imagen-4.0-generate-001',
  'imagen-4.0-fast-generate-001',
  'imagen-4.0-ultra-generate-001',
];
const PATH_RE = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google\/models\/([^/:]+):predict$/;

export async function startVertexFake(
  options: VertexFakeOptions = {},
): Promise<FakeServer & { inject(fault: VertexFault): void }> {
  const accessToken = options.accessToken ?? 'ya29.fake-vertex-access-token';
  const project = options.project ?? 'pixel-test';
  const models = new Set(options.models ?? DEFAULT_MODELS);
  const state = new FakeState();
  const { faults } = state;
  // The shared queue knows only the shared kinds; Imagen-only ones wait in their own queue.
  const special = new FaultQueue<Exclude<VertexFault, Fault>>();
  const error = sendRpcError;

  async function handle(request: ParsedRequest, res: ServerResponse): Promise<void> {
    const auth = request.headers.authorization;
    if (!auth?.startsWith('Bearer '))
      return error(
        res,
        401,
        'UNAUTHENTICATED',
        'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
        [{ '@type': RPC_TYPE.errorInfo, reason: 'CREDENTIALS_MISSING', domain: 'googleapis.com' }],
      );
    if (auth !== `Bearer ${accessToken}`)
      return error(
        res,
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
        [{ '@type': RPC_TYPE.errorInfo, reason: 'ACCESS_TOKEN_TYPE_UNSUPPORTED', domain: 'googleapis.com' }],
      );
    const match = PATH_RE.exec(request.url.pathname);
    if (!match || request.method !== 'POST')
      return error(res, 404, 'NOT_FOUND', urlNotFound(request.url.pathname));
    const [, pathProject, location, model] = match as unknown as [string, string, string, string];
    if (pathProject !== project)
      return error(
        res,
        403,
        'PERMISSION_DENIED',
        `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/${pathProject}/locations/${location}/publishers/google/models/${model}' (or it may not exist).`,
      );
    if (!models.has(model))
      return error(
        res,
        404,
        'NOT_FOUND',
        `Publisher Model \`projects/${pathProject}/locations/${location}/publishers/google/models/${model}\` not found.`,
      );

    const fault = faults.take();
    if (fault?.kind === 'echo_credential') {
      const seen = credentialsSeen(request.headers);
      return fault.status === 401
        ? error(res, 401, 'UNAUTHENTICATED', `Request had invalid authentication credentials (${seen}).`)
        : error(res, 500, 'INTERNAL', `Internal error encountered handling ${seen}.`);
    }
    if (fault?.kind === 'slow') await delay(fault.delayMs, res);
    if (fault?.kind === 'rate_limit')
      return error(
        res,
        429,
        'RESOURCE_EXHAUSTED',
        `Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model with base model: ${model}. Please submit a quota increase request. https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai.`,
        [retryInfo(fault.retryAfterMs)],
      );
    if (fault?.kind === 'server_error')
      return fault.status === 503
        ? error(res, 503, 'UNAVAILABLE', 'The service is currently unavailable.')
        : error(res, fault.status, 'INTERNAL', 'Internal error encountered.');

    const parsed = ImagenPredictRequestSchema.safeParse(
      fault?.kind === 'invalid' ? { ...(request.body as object), instances: [] } : request.body,
    );
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join('.') || 'request';
      const message =
        issue.code === 'unrecognized_keys'
          ? `Invalid JSON payload received. Unknown name "${issue.keys[0]}": Cannot find field.`
          : `${field}: ${issue.message}`;
      return error(res, 400, 'INVALID_ARGUMENT', message, [
        { '@type': RPC_TYPE.badRequest, fieldViolations: [{ field, description: message }] },
      ]);
    }
    const { instances, parameters = {} } = parsed.data;
    const extra = special.take();
    if (extra?.kind === 'prompt_blocked')
      return error(
        res,
        400,
        'INVALID_ARGUMENT',
        "Image generation failed with the following error: The prompt could not be submitted. This prompt contains sensitive words that violate Google's Responsible AI practices. Try rephrasing the prompt. If you think this was an error, send feedback. Support codes: 42876398",
      );
    if (fault?.kind === 'malformed') {
      if (fault.variant === 'wrong_content_type')
        return sendBytes(res, 200, new TextEncoder().encode('<html>error</html>'), 'text/html');
      if (fault.variant === 'empty_list') return sendJson(res, 200, { predictions: [] });
      if (fault.variant === 'missing_fields')
        return sendJson(res, 200, { predictions: [{ mimeType: 'image/png' }] });
      const junk = Buffer.from('not an image at all').toString('base64');
      return sendJson(res, 200, { predictions: [{ mimeType: 'image/png', bytesBase64Encoded: junk }] });
    }

    const count = parameters.sampleCount ?? 4;
    const keep =
      fault?.kind === 'moderation' ? 0 : extra?.kind === 'filter' ? Math.min(extra.keep, count) : count;
    const [w, h] = IMAGEN_RATIO_PIXELS[parameters.aspectRatio ?? '1:1'];
    const factor = parameters.sampleImageSize === '2K' ? 2 : 1;
    const mime = parameters.outputOptions?.mimeType ?? 'image/png';
    // The seed is honoured only with the watermark off (it defaults to on).
    const seed =
      parameters.seed !== undefined && parameters.addWatermark === false
        ? parameters.seed
        : randomBytes(4).readUInt32BE();
    const predictions: Array<Record<string, unknown>> = [];
    for (let index = 0; index < keep; index++) {
      const image = await fakeImage({
        prompt: instances[0]!.prompt,
        width: w * factor,
        height: h * factor,
        seed: (seed + index) >>> 0,
        format: mime === 'image/jpeg' ? 'jpeg' : 'png',
      });
      predictions.push({
        mimeType: image.mediaType,
        bytesBase64Encoded: Buffer.from(image.bytes).toString('base64'),
      });
    }
    if (parameters.includeRaiReason)
      for (let index = keep; index < count; index++) predictions.push({ raiFilteredReason: RAI_REASON });
    // With every image filtered and no RAI reasons asked for, Imagen answers an empty object.
    return sendJson(res, 200, predictions.length > 0 ? { predictions } : {});
  }

  const server = await state.serve(handle, (res, err) => error(res, 500, 'INTERNAL', String(err)));

  return {
    ...state.fake(server, accessToken, () => special.clear()),
    inject(fault: VertexFault) {
      if (fault.kind === 'filter' || fault.kind === 'prompt_blocked') special.add(fault);
      else faults.add(fault);
    },
  };
}
