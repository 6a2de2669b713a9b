import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { z } from 'zod';
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
import { RPC_TYPE } from './rpc.ts';
import { retryInfo, sendRpcError, urlNotFound } from './rpc-fake.ts';
import { GEMINI_RATIO_PIXELS, GenerateContentRequestSchema } from './wire.ts';

/**
 * A local stand-in for generativelanguage.googleapis.com `v1beta/models/{model}:generateContent`
 * with image output: `x-goog-api-key` (or `?key=`), strict request validation, Google RPC errors,
 * safety outcomes as HTTP 200 without an image.
 */
export interface GoogleFakeOptions {
  apiKey?: string;
  models?: string[];
}

/** Gemini-specific outcomes on top of the shared faults: a given finish reason or a blocked prompt. */
export type GoogleFault =
  | Fault
  | { kind: 'finish'; times: number; finishReason: string; finishMessage?: string }
  | { kind: 'blocked'; times: number; blockReason: string };

const DEFAULT_MODELS = [
  'gemini-2.5-flash-image',
  'gemini-2.5-flash-image-preview',
  'gemini-3-pro-image-preview',
];
const SIZE_FACTOR = { '1K': 1, '2K': 2, '4K': 4 } as const;
const PATH_RE = /^\/v1beta\/models\/([^/:]+):generateContent$/;

export async function startGoogleFake(
  options: GoogleFakeOptions = {},
): Promise<FakeServer & { inject(fault: GoogleFault): void }> {
  const apiKey = options.apiKey ?? 'AIzaFakeGoogleKey00000000000000000000';
  const models = new Set(options.models ?? DEFAULT_MODELS);
  const state = new FakeState();
  const { faults } = state;
  // The shared queue knows only the shared kinds; Gemini-only ones wait in their own queue.
  const special = new FaultQueue<Exclude<GoogleFault, Fault>>();

  const error = (
    res: ServerResponse,
    code: number,
    status: string,
    message: string,
    details: Array<Record<string, unknown>> = [],
  ) =>
    sendRpcError(res, code, status, message, details, { 'content-type': 'application/json; charset=UTF-8' });

  async function handle(request: ParsedRequest, res: ServerResponse): Promise<void> {
    const key = request.headers['x-goog-api-key'] ?? request.url.searchParams.get('key') ?? undefined;
    if (key === undefined)
      return error(
        res,
        403,
        'PERMISSION_DENIED',
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      );
    if (key !== apiKey)
      return error(res, 400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
        {
          '@type': RPC_TYPE.errorInfo,
          reason: 'API_KEY_INVALID',
          domain: 'googleapis.com',
          metadata: { service: 'generativelanguage.googleapis.com' },
        },
      ]);
    const match = PATH_RE.exec(request.url.pathname);
    if (!match || request.method !== 'POST')
      return error(res, 404, 'NOT_FOUND', urlNotFound(request.url.pathname));
    const model = match[1]!;
    if (!models.has(model))
      return error(
        res,
        404,
        'NOT_FOUND',
        `models/${model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`,
      );

    const fault = faults.take();
    if (fault?.kind === 'echo_credential') {
      const seen = credentialsSeen(request.headers, request.url);
      return fault.status === 401
        ? error(res, 401, 'UNAUTHENTICATED', `API key not valid (${seen}). Please pass a valid API key.`)
        : error(res, 500, 'INTERNAL', `An internal error has occurred handling ${seen}.`);
    }
    if (fault?.kind === 'slow') await delay(fault.delayMs, res);
    if (fault?.kind === 'rate_limit')
      return error(
        res,
        429,
        'RESOURCE_EXHAUSTED',
        'You exceeded your current quota, please check your plan and billing details.',
        [
          {
            '@type': RPC_TYPE.quotaFailure,
            violations: [
              { quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests' },
            ],
          },
          retryInfo(fault.retryAfterMs),
        ],
      );
    if (fault?.kind === 'server_error') {
      if (fault.status === 503)
        return error(res, 503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.');
      return error(
        res,
        fault.status,
        'INTERNAL',
        'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
      );
    }
    if (fault?.kind === 'invalid')
      return invalid(res, [
        {
          code: 'custom',
          path: ['generationConfig', 'imageConfig', 'aspectRatio'],
          message: 'Unsupported aspect ratio',
          input: '7:1',
        },
      ]);

    const parsed = GenerateContentRequestSchema.safeParse(request.body);
    if (!parsed.success) return invalid(res, parsed.error.issues);
    const body = parsed.data;
    const responseId = randomBytes(12).toString('base64url');
    const base = { modelVersion: model, responseId };

    const extra = special.take();
    if (extra) {
      if (extra.kind === 'blocked')
        return sendJson(res, 200, { promptFeedback: { blockReason: extra.blockReason }, ...base });
      return sendJson(res, 200, {
        candidates: [
          {
            finishReason: extra.finishReason,
            ...(extra.finishMessage ? { finishMessage: extra.finishMessage } : {}),
            index: 0,
          },
        ],
        ...base,
      });
    }
    if (fault?.kind === 'moderation')
      return sendJson(res, 200, { candidates: [{ finishReason: 'IMAGE_SAFETY', index: 0 }], ...base });
    if (fault?.kind === 'malformed') {
      if (fault.variant === 'wrong_content_type')
        return sendBytes(res, 200, new TextEncoder().encode('<html>maintenance</html>'), 'text/html');
      if (fault.variant === 'empty_list') return sendJson(res, 200, { candidates: [], ...base });
      if (fault.variant === 'missing_fields')
        return sendJson(res, 200, {
          candidates: [{ content: { parts: [{ inlineData: { mimeType: 'image/png' } }] } }],
          ...base,
        });
      const junk = Buffer.from('definitely not a png').toString('base64');
      return sendJson(res, 200, {
        candidates: [
          {
            content: { role: 'model', parts: [{ inlineData: { mimeType: 'image/png', data: junk } }] },
            finishReason: 'STOP',
          },
        ],
        ...base,
      });
    }

    const modalities = body.generationConfig?.responseModalities;
    const prompt = body.contents.flatMap((c) => c.parts.map((p) => ('text' in p ? p.text : ''))).join(' ');
    const usage = {
      promptTokenCount: Math.ceil(prompt.length / 4),
      candidatesTokenCount: 0,
      totalTokenCount: 0,
    };
    if (modalities && !modalities.includes('IMAGE')) {
      usage.candidatesTokenCount = 12;
      usage.totalTokenCount = usage.promptTokenCount + 12;
      return sendJson(res, 200, {
        candidates: [
          {
            content: { role: 'model', parts: [{ text: 'I can describe it, but you asked for text only.' }] },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: usage,
        ...base,
      });
    }
    const ratio = body.generationConfig?.imageConfig?.aspectRatio ?? '1:1';
    const factor = SIZE_FACTOR[body.generationConfig?.imageConfig?.imageSize ?? '1K'];
    const [width, height] = GEMINI_RATIO_PIXELS[ratio];
    const seed = body.generationConfig?.seed ?? randomBytes(4).readUInt32BE();
    const image = await fakeImage({
      prompt,
      width: width * factor,
      height: height * factor,
      seed,
      format: 'png',
    });
    usage.candidatesTokenCount = 1290;
    usage.totalTokenCount = usage.promptTokenCount + 1290;
    return sendJson(res, 200, {
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              {
                inlineData: { mimeType: image.mediaType, data: Buffer.from(image.bytes).toString('base64') },
              },
            ],
          },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: usage,
      ...base,
    });
  }

  /** Google words schema errors in proto field names (snake_case) and adds a BadRequest detail. */
  function invalid(res: ServerResponse, issues: z.core.$ZodIssue[]) {
    const issue = issues[0]!;
    const path = issue.path.map((p) => String(p).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)).join('.');
    const message =
      issue.code === 'unrecognized_keys'
        ? `Invalid JSON payload received. Unknown name "${issue.keys[0]}" at '${path}': Cannot find field.`
        : `* GenerateContentRequest.${path}: ${issue.message}`;
    return error(res, 400, 'INVALID_ARGUMENT', message, [
      { '@type': RPC_TYPE.badRequest, fieldViolations: [{ field: path || 'request', description: message }] },
    ]);
  }

  const server = await state.serve(handle, (res, err) => error(res, 500, 'INTERNAL', String(err)));

  return {
    ...state.fake(server, apiKey, () => special.clear()),
    inject(fault: GoogleFault) {
      if (fault.kind === 'finish' || fault.kind === 'blocked') special.add(fault);
      else faults.add(fault);
    },
  };
}
