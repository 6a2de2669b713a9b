import { randomInt, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { AwsV4Signer } from 'aws4fetch';
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
  type BedrockFamily,
  BedrockStabilityRequestSchema,
  NovaRequestSchema,
  TITAN_SIZES,
  TitanRequestSchema,
} from './wire.ts';

/**
 * A local Amazon Bedrock runtime answering InvokeModel for the image models like the real one:
 * SigV4 checked in full (same signer as the adapter), Bedrock's exception bodies and
 * `x-amzn-ErrorType` header, per-model schema validation with Bedrock's "Malformed input request"
 * messages, base64 images of the requested size.
 */

export const FAKE_BEDROCK_SECRET = 'fake/bedrock/secret-access-key';
export const FAKE_BEDROCK_REGION = 'us-east-1';

export interface BedrockFakeOptions {
  accessKeyId?: string;
  secretAccessKey?: string;
}

export interface BedrockFake extends FakeServer {
  secretAccessKey: string;
  region: string;
}

export const FAKE_BEDROCK_MODELS: Readonly<Record<string, BedrockFamily>> = {
  'amazon.titan-image-generator-v2:0': 'titan',
  'amazon.titan-image-generator-v1': 'titan',
  'amazon.nova-canvas-v1:0': 'nova',
  'stability.sd3-5-large-v1:0': 'stability',
  'stability.stable-image-core-v1:1': 'stability',
  'stability.stable-image-ultra-v1:1': 'stability',
};

/** Pixels per aspect ratio for the Stability models (SD3-family ~1 MP tables). */
const STABILITY_PIXELS: Record<string, [number, number]> = {
  '1:1': [1024, 1024],
  '16:9': [1344, 768],
  '9:16': [768, 1344],
  '21:9': [1536, 640],
  '9:21': [640, 1536],
  '3:2': [1216, 832],
  '2:3': [832, 1216],
  '5:4': [1088, 896],
  '4:5': [896, 1088],
};

const RAI_MESSAGE =
  'This request has been blocked by our content filters. Please adjust your text prompt to submit a new request.';

export async function startBedrockFake(options: BedrockFakeOptions = {}): Promise<BedrockFake> {
  const accessKeyId = options.accessKeyId ?? 'AKIAFAKEBEDROCK00001';
  const secretAccessKey = options.secretAccessKey ?? FAKE_BEDROCK_SECRET;
  const state = new FakeState();
  const { faults } = state;

  const handle = async (request: ParsedRequest, res: ServerResponse) => {
    const match = /^\/model\/([^/]+)\/invoke$/.exec(request.url.pathname);
    if (request.method !== 'POST' || !match) {
      awsError(res, 404, 'UnknownOperationException', 'Unknown operation');
      return;
    }
    const authProblem = await checkSignature(request, accessKeyId, secretAccessKey);
    if (authProblem) {
      awsError(res, 403, authProblem[0], authProblem[1]);
      return;
    }
    const modelId = decodeURIComponent(match[1]!);
    const family = FAKE_BEDROCK_MODELS[modelId.replace(/^(us|eu|apac|global)\./, '')];
    if (!family) {
      awsError(res, 400, 'ValidationException', 'The provided model identifier is invalid.');
      return;
    }
    const fault = faults.take();
    if (fault?.kind === 'echo_credential') {
      const seen = credentialsSeen(request.headers);
      if (fault.status === 401)
        awsError(
          res,
          401,
          'UnrecognizedClientException',
          `The security token included in the request is invalid: ${seen}`,
        );
      else
        awsError(res, 500, 'InternalServerException', `The server encountered an internal error (${seen}).`);
      return;
    }
    if (fault && (await answerFault(fault, family, res))) return;
    await invoke(family, request, res);
  };

  const server = await state.serve(handle, (res, error) =>
    awsError(res, 500, 'InternalServerException', String(error)),
  );
  return {
    ...state.fake(server, accessKeyId),
    secretAccessKey,
    region: FAKE_BEDROCK_REGION,
  };
}

function awsError(res: ServerResponse, status: number, type: string, message: string): void {
  sendJson(
    res,
    status,
    { message },
    {
      'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      'x-amzn-requestid': randomUUID(),
    },
  );
}

/** Returns [exception type, message] when the request is not properly signed for this key. */
async function checkSignature(
  request: ParsedRequest,
  accessKeyId: string,
  secretAccessKey: string,
): Promise<[string, string] | undefined> {
  const authorization = request.headers.authorization;
  if (!authorization) return ['MissingAuthenticationTokenException', 'Missing Authentication Token'];
  const parts =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  const amzDate = request.headers['x-amz-date'];
  if (!parts || !amzDate)
    return [
      'IncompleteSignatureException',
      'Authorization header requires Credential, SignedHeaders and Signature, and an X-Amz-Date header.',
    ];
  const [, keyId, , region, service, signedHeaders] = parts;
  if (keyId !== accessKeyId)
    return ['UnrecognizedClientException', 'The security token included in the request is invalid.'];
  const headers: Record<string, string> = {};
  for (const name of signedHeaders!.split(';')) {
    if (name !== 'host') headers[name] = request.headers[name] ?? '';
  }
  const signer = new AwsV4Signer({
    method: request.method,
    url: `http://${request.headers.host}${request.url.pathname}${request.url.search}`,
    headers,
    body: request.raw.toString('utf8'),
    accessKeyId,
    secretAccessKey,
    service,
    region,
    datetime: amzDate,
  });
  const expected = (await signer.sign()).headers.get('authorization');
  if (expected !== authorization)
    return [
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    ];
  return undefined;
}

/** Answers an injected fault; false when the fault only delays the normal answer. */
async function answerFault(fault: Fault, family: BedrockFamily, res: ServerResponse): Promise<boolean> {
  switch (fault.kind) {
    case 'echo_credential':
      return false; // answered before the fault switch, where the request is at hand
    case 'rate_limit':
      // Bedrock documents no Retry-After; the wait hint is not sent, as on the real service.
      awsError(res, 429, 'ThrottlingException', 'Too many requests, please wait before trying again.');
      return true;
    case 'server_error':
      if (fault.status === 500)
        awsError(res, 500, 'InternalServerException', 'The server encountered an internal error.');
      else
        awsError(res, fault.status, 'ServiceUnavailableException', 'Service Unavailable. Please try again.');
      return true;
    case 'moderation':
      if (family === 'stability')
        sendJson(res, 200, {
          seeds: [randomInt(1, 2 ** 31)],
          finish_reasons: ['Filter reason: prompt'],
          images: [],
        });
      else awsError(res, 400, 'ValidationException', RAI_MESSAGE);
      return true;
    case 'invalid':
      awsError(
        res,
        400,
        'ValidationException',
        'Malformed input request: #: required key [prompt] not found, please reformat your input and try again.',
      );
      return true;
    case 'malformed':
      if (fault.variant === 'wrong_content_type')
        sendBytes(res, 200, Buffer.from('<html><body>OK</body></html>'), 'text/html');
      else if (fault.variant === 'missing_fields') sendJson(res, 200, { error: null });
      else if (fault.variant === 'empty_list')
        sendJson(
          res,
          200,
          family === 'stability'
            ? { seeds: [], finish_reasons: [], images: [] }
            : { images: [], error: null },
        );
      else {
        const junk = Buffer.from('this is not an image').toString('base64');
        sendJson(
          res,
          200,
          family === 'stability'
            ? { seeds: [1], finish_reasons: [null], images: [junk] }
            : { images: [junk], error: null },
        );
      }
      return true;
    case 'slow':
      await delay(fault.delayMs, res);
      return res.destroyed;
    case 'stuck':
      // A sync API has no queue: the call just hangs until the client gives up (bounded).
      await delay(30_000, res);
      return true;
  }
}

/** Bedrock's validation message for the first schema problem. */
function malformedInput(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const path = ['#', ...issue.path.map(String)].join('/');
  const what =
    issue.code === 'unrecognized_keys'
      ? `extraneous key [${issue.keys.join(', ')}] is not permitted`
      : issue.message;
  return `Malformed input request: ${path}: ${what}, please reformat your input and try again.`;
}

async function invoke(family: BedrockFamily, request: ParsedRequest, res: ServerResponse): Promise<void> {
  const headers = { 'x-amzn-requestid': randomUUID(), 'x-amzn-bedrock-invocation-latency': '42' };
  if (typeof request.body !== 'object' || request.body === null) {
    awsError(
      res,
      400,
      'ValidationException',
      'Malformed input request, please reformat your input and try again.',
    );
    return;
  }
  if (family === 'stability') {
    const parsed = BedrockStabilityRequestSchema.safeParse(request.body);
    if (!parsed.success) {
      awsError(res, 400, 'ValidationException', malformedInput(parsed.error));
      return;
    }
    const body = parsed.data;
    const [width, height] = STABILITY_PIXELS[body.aspect_ratio]!;
    // As on Stability's own API, a missing seed or 0 means "pick one".
    const seed = body.seed ? body.seed : randomInt(1, 2 ** 32 - 1);
    const image = await fakeImage({ prompt: body.prompt, width, height, seed, format: body.output_format });
    sendJson(
      res,
      200,
      { seeds: [seed], finish_reasons: [null], images: [Buffer.from(image.bytes).toString('base64')] },
      headers,
    );
    return;
  }
  const parsed = (family === 'nova' ? NovaRequestSchema : TitanRequestSchema).safeParse(request.body);
  if (!parsed.success) {
    awsError(res, 400, 'ValidationException', malformedInput(parsed.error));
    return;
  }
  const body = parsed.data;
  if (body.taskType !== 'TEXT_IMAGE' || !body.textToImageParams) {
    awsError(
      res,
      400,
      'ValidationException',
      'Malformed input request: #/textToImageParams: this fake serves taskType TEXT_IMAGE with textToImageParams only, please reformat your input and try again.',
    );
    return;
  }
  const config = body.imageGenerationConfig;
  const count = config?.numberOfImages ?? 1;
  const seed = config?.seed ?? (family === 'nova' ? 12 : 42);
  const width = config?.width ?? 1024;
  const height = config?.height ?? 1024;
  const sizeProblem = family === 'nova' ? novaSizeProblem(width, height) : titanSizeProblem(width, height);
  if (sizeProblem) {
    awsError(res, 400, 'ValidationException', sizeProblem);
    return;
  }
  const images: string[] = [];
  for (let index = 0; index < count; index++) {
    const image = await fakeImage({
      prompt: body.textToImageParams.text,
      width,
      height,
      seed: seed + index,
    });
    images.push(Buffer.from(image.bytes).toString('base64'));
  }
  sendJson(res, 200, { images, error: null }, headers);
}

function titanSizeProblem(width: number, height: number): string | undefined {
  if (TITAN_SIZES.some(([w, h]) => w === width && h === height)) return undefined;
  return `Malformed input request: #/imageGenerationConfig: ${width}x${height} is not a supported image size, please reformat your input and try again.`;
}

function novaSizeProblem(width: number, height: number): string | undefined {
  for (const [name, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (value < 320 || value > 4096 || value % 16 !== 0)
      return `Malformed input request: #/imageGenerationConfig/${name}: ${value} must be between 320 and 4096 and divisible by 16, please reformat your input and try again.`;
  }
  return undefined;
}
