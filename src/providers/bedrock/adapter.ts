// Native fetch + aws4fetch SigV4 rather than @ai-sdk/amazon-bedrock: its image model builds its own
// Nova-style body (no Titan/Stability bodies, no exact native passthrough) and drops Stability's seeds,
// finish reasons and the request id.
import { AwsClient } from 'aws4fetch';
import { PixelError, redactSecrets } from '../../protocol/errors.ts';
import {
  checkImage,
  classifyHttpFailure,
  decodeBase64Image,
  malformed,
  networkFailure,
  parseWaitFromMessage,
  readJson,
} from '../common/http.ts';
import type { ProviderAdapter, ProviderCall, ProviderImage, ProviderResult } from '../types.ts';
import {
  BedrockErrorSchema,
  BedrockStabilityResponseSchema,
  familyOf,
  RAI_PATTERN,
  TitanNovaResponseSchema,
} from './wire.ts';

export interface BedrockCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface BedrockAdapterConfig {
  credentials: BedrockCredentials;
  region: string;
  /** `https://bedrock-runtime.{region}.amazonaws.com` unless overridden. */
  baseURL?: string;
  fetch?: typeof fetch;
}

const PROVIDER = 'bedrock';

export function defaultBedrockBaseURL(region: string): string {
  return `https://bedrock-runtime.${region}.amazonaws.com`;
}

export function createBedrockAdapter(config: BedrockAdapterConfig): ProviderAdapter {
  const baseURL = (config.baseURL ?? defaultBedrockBaseURL(config.region)).replace(/\/+$/, '');
  const doFetch = config.fetch ?? fetch;
  const aws = new AwsClient({
    accessKeyId: config.credentials.accessKeyId,
    secretAccessKey: config.credentials.secretAccessKey,
    sessionToken: config.credentials.sessionToken,
    service: 'bedrock',
    region: config.region,
    retries: 0,
  });

  return {
    name: PROVIDER,
    async generate(call: ProviderCall): Promise<ProviderResult> {
      const modelId = call.model.providerModelId;
      const url = `${baseURL}/model/${encodeURIComponent(modelId)}/invoke`;
      const signed = await aws.sign(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(call.body),
      });
      let response: Response;
      try {
        response = await doFetch(signed, { signal: call.signal });
      } catch (error) {
        throw networkFailure(PROVIDER, error, call.signal);
      }
      const requestId = response.headers.get('x-amzn-requestid') ?? undefined;
      if (!response.ok) throw await bedrockFailure(response, requestId);
      if (!(response.headers.get('content-type') ?? '').includes('json'))
        throw malformed(
          PROVIDER,
          `answered with content type ${response.headers.get('content-type') ?? 'none'}`,
        );
      const json = await readJson(PROVIDER, response);
      const family = familyOf(modelId, call.model.transport);
      const images =
        family === 'stability'
          ? await stabilityImages(json, requestId, call.body)
          : await titanNovaImages(json, requestId, call.body);
      if (images.length < call.count)
        throw malformed(PROVIDER, `returned ${images.length} image(s) where ${call.count} were asked for`);
      return { images, requestId };
    },
  };
}

async function titanNovaImages(
  json: unknown,
  requestId: string | undefined,
  body: Record<string, unknown>,
): Promise<ProviderImage[]> {
  const parsed = TitanNovaResponseSchema.safeParse(json);
  if (!parsed.success) throw malformed(PROVIDER, 'response has no images list');
  const { images, error } = parsed.data;
  if (error) {
    throw classifyHttpFailure({
      provider: PROVIDER,
      status: 400,
      headers: new Headers(),
      message: error,
      requestId,
      moderated: RAI_PATTERN.test(error),
    });
  }
  if (images.length === 0) throw malformed(PROVIDER, 'returned an empty images list');
  // Titan and Nova do not echo the seed; they use the one sent (every image of a call shares it).
  const config = body.imageGenerationConfig as { seed?: unknown } | undefined;
  const seed = typeof config?.seed === 'number' ? config.seed : undefined;
  return Promise.all(
    images.map(async (b64, index) => {
      const image = await checkImage(PROVIDER, decodeBase64Image(PROVIDER, b64, `images[${index}]`));
      return { ...image, seed };
    }),
  );
}

async function stabilityImages(
  json: unknown,
  requestId: string | undefined,
  body: Record<string, unknown>,
): Promise<ProviderImage[]> {
  const parsed = BedrockStabilityResponseSchema.safeParse(json);
  if (!parsed.success) throw malformed(PROVIDER, 'response lacks images or finish_reasons');
  const { images, seeds, finish_reasons: reasons } = parsed.data;
  const refusal = reasons.find((reason) => typeof reason === 'string' && /^filter reason/i.test(reason));
  if (refusal) {
    throw classifyHttpFailure({
      provider: PROVIDER,
      status: 200,
      headers: new Headers(),
      message: refusal,
      requestId,
      moderated: true,
    });
  }
  const failure = reasons.find((reason) => typeof reason === 'string' && reason.length > 0);
  if (failure) {
    throw new PixelError({
      code: 'unavailable',
      reason: 'provider_error',
      retryable: true,
      provider: PROVIDER,
      providerRequestId: requestId,
      message: `${PROVIDER} model failed: ${failure}`,
    });
  }
  if (images.length === 0) throw malformed(PROVIDER, 'returned an empty images list');
  const sentSeed = typeof body.seed === 'number' ? body.seed : undefined;
  return Promise.all(
    images.map(async (b64, index) => {
      const image = await checkImage(PROVIDER, decodeBase64Image(PROVIDER, b64, `images[${index}]`));
      return { ...image, seed: seeds?.[index] ?? sentSeed };
    }),
  );
}

/** Exception types that mean the credentials are wrong, not that access is denied. */
const BAD_CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'ExpiredTokenException',
  'IncompleteSignatureException',
]);

async function bedrockFailure(response: Response, requestId: string | undefined): Promise<PixelError> {
  const text = await response.text();
  let message = text.slice(0, 500);
  try {
    const body = BedrockErrorSchema.safeParse(JSON.parse(text));
    if (body.success) message = body.data.message ?? body.data.Message ?? message;
  } catch {
    // not JSON: keep the text
  }
  // `x-amzn-ErrorType: ValidationException:http://internal.amazon.com/coral/...`
  const type = (response.headers.get('x-amzn-errortype') ?? '').split(':')[0]!;
  let status = response.status;
  if (BAD_CREDENTIALS.has(type)) status = 401;
  else if (type === 'ThrottlingException' || type === 'ServiceQuotaExceededException') status = 429;
  else if (type === 'ModelErrorException' || type === 'ModelNotReadyException') status = 503;
  const error = classifyHttpFailure({
    provider: PROVIDER,
    status,
    headers: response.headers,
    message: type ? `${type}: ${message}` : message,
    requestId,
    moderated: status === 400 && RAI_PATTERN.test(message),
    retryAfterMs: parseWaitFromMessage(message),
  });
  if (status === response.status) return error;
  // Classified by the exception type; the error still carries the status Bedrock actually sent.
  return new PixelError({
    code: error.code,
    reason: error.reason,
    retryable: error.retryable,
    retryAfterMs: error.retryAfterMs,
    provider: PROVIDER,
    providerStatus: response.status,
    providerRequestId: requestId,
    message: `${PROVIDER} ${response.status}: ${redactSecrets(type ? `${type}: ${message}` : message)}`,
  });
}
