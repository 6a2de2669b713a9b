import { fromJson, type JsonObject, toJson } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import {
  ErrorDetailSchema,
  type GenerateRequest,
  GenerateRequestSchema,
} from '../../gen/pixel/v1/common_pb.ts';
import { type GenerateResponse, GenerateResponseSchema, ImageService } from '../../gen/pixel/v1/images_pb.ts';
import { ERROR_CODES, type ErrorCode, PixelError } from '../../protocol/errors.ts';
import { parseGenerateRequest } from '../../protocol/request.ts';
import { gateSummaryFromWire } from '../../quality/gate/wire.ts';
import type { ReportLine } from '../../translate/types.ts';
import { writeImageFiles } from './files.ts';
import type { GenerateSummary } from './summary.ts';

/** The server's ImageService over Connect (HTTP/1.1 JSON), with PIXEL_API_KEY as the bearer key when set. */
export function imageClient(baseUrl: string, apiKey: string | undefined) {
  const auth: Interceptor = (next) => (req) => {
    if (apiKey !== undefined) req.header.set('authorization', `Bearer ${apiKey}`);
    return next(req);
  };
  return createClient(
    ImageService,
    createConnectTransport({ baseUrl, httpVersion: '1.1', useBinaryFormat: false, interceptors: [auth] }),
  );
}

/**
 * Sends the request to a running server (the one holding the embedded folder, or --server): it generates
 * and stores; copies for --out are fetched from the image URLs the server answers with.
 */
export async function generateOnServer(
  serverUrl: string,
  request: Record<string, unknown>,
  options: { out?: string; signal: AbortSignal; apiKey?: string; onProgress?: (text: string) => void },
): Promise<GenerateSummary> {
  // The same validation as here, so a bad flag is named the same way whether or not a server answers.
  if (request.app === undefined) parseGenerateRequest(request);
  let message: ReturnType<typeof fromJson<typeof GenerateRequestSchema>>;
  try {
    message = fromJson(GenerateRequestSchema, request as JsonObject);
  } catch (error) {
    throw new PixelError({
      code: 'invalid_argument',
      reason: 'validation',
      message: `the request cannot be sent to the server: ${(error as Error).message}`,
    });
  }
  const started = performance.now();
  const client = imageClient(serverUrl, options.apiKey);
  const response = await streamed(client, message, options.signal, options.onProgress).catch(
    (error: unknown) => {
      throw fromConnectError(error, serverUrl);
    },
  );
  const latencyMs = performance.now() - started;
  const answer = toJson(GenerateResponseSchema, response) as {
    images?: Array<{
      id: string;
      url: string;
      mediaType: string;
      width?: number;
      height?: number;
      seed?: number;
    }>;
    report?: ReportLine[];
    model?: string;
    route?: string;
    costEstimateUsd?: number;
    notes?: string[];
    gate?: unknown;
  };
  const images = answer.images ?? [];
  const paths =
    options.out === undefined
      ? []
      : await writeImageFiles(
          options.out,
          await Promise.all(
            images.map(async (image) => ({
              name: image.id,
              mediaType: image.mediaType,
              bytes: await download(image.url, options.apiKey, options.signal),
            })),
          ),
        );
  return {
    route: answer.route ?? '',
    requested: answer.model ?? '',
    ...(images[0]?.seed !== undefined && { seed: images[0].seed }),
    images: images.map((image, i) => ({
      id: image.id,
      url: image.url,
      ...(paths[i] !== undefined && { path: paths[i] }),
      mediaType: image.mediaType,
      width: image.width ?? 0,
      height: image.height ?? 0,
      ...(image.seed !== undefined && { seed: image.seed }),
    })),
    report: answer.report ?? [],
    notes: answer.notes ?? [],
    costEstimateUsd: answer.costEstimateUsd ?? null,
    latencyMs,
    storedIn: { kind: 'server', url: serverUrl },
    ...(answer.gate !== undefined && { gate: gateSummaryFromWire(answer.gate) }),
  };
}

/** GenerateStream: the server's progress events as they come (for the terminal line), then the result. */
async function streamed(
  client: ReturnType<typeof imageClient>,
  message: GenerateRequest,
  signal: AbortSignal,
  onProgress: ((text: string) => void) | undefined,
): Promise<GenerateResponse> {
  for await (const event of client.generateStream(message, { signal })) {
    if (event.event.case === 'result') return event.event.value;
    if (event.event.case === 'progress') {
      const p = event.event.value;
      const fraction = p.fraction === undefined ? '' : ` ${Math.round(p.fraction * 100)}%`;
      onProgress?.(`server: ${p.stage}${p.message ? ` ${p.message}` : ''}${fraction}`);
    }
  }
  throw new PixelError({ code: 'unavailable', message: 'the server ended the stream without a result' });
}

async function download(url: string, apiKey: string | undefined, signal: AbortSignal): Promise<Uint8Array> {
  const response = await fetch(url, {
    signal,
    ...(apiKey !== undefined && { headers: { authorization: `Bearer ${apiKey}` } }),
  }).catch((error: unknown) => {
    throw new PixelError({
      code: 'unavailable',
      field: 'out',
      message: `could not fetch ${url} for --out: ${(error as Error).message}`,
    });
  });
  if (!response.ok) {
    throw new PixelError({
      code: 'unavailable',
      field: 'out',
      message: `could not fetch ${url} for --out: HTTP ${response.status}`,
    });
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** A Connect error from the server → the PixelError it was (code, field, reason from Pixel's ErrorDetail). */
export function fromConnectError(error: unknown, serverUrl: string): PixelError {
  if (PixelError.isInstance(error)) return error;
  const connect = ConnectError.from(error);
  const detail = connect.findDetails(ErrorDetailSchema)[0];
  const code: ErrorCode =
    detail !== undefined && (ERROR_CODES as readonly string[]).includes(detail.code)
      ? (detail.code as ErrorCode)
      : connect.code === Code.Unavailable || connect.code === Code.Unknown
        ? 'unavailable'
        : ((Code[connect.code] ?? 'unknown').replace(
            /[A-Z]/g,
            (c, i) => (i ? '_' : '') + c.toLowerCase(),
          ) as ErrorCode);
  const unreachable = detail === undefined && code === 'unavailable';
  return new PixelError({
    code: (ERROR_CODES as readonly string[]).includes(code) ? code : 'unknown',
    message: unreachable
      ? `the server at ${serverUrl} did not answer: ${connect.rawMessage}`
      : connect.rawMessage,
    ...(detail?.field && { field: detail.field }),
    ...(detail?.reason && { reason: detail.reason }),
    ...(detail !== undefined && { retryable: detail.retryable }),
  });
}
