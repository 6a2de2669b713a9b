import { PassThrough } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { toPixelError } from '../protocol/errors.ts';
import type { ProviderProgress } from '../providers/types.ts';
import type { GenerateAndStoreResult, ServiceProgress } from './image-service.ts';
import { pixelBlock } from './openai-compat.ts';
import { openAIErrorBody } from './wire-errors.ts';

/** `image_generation` for /v1/images/generations, `image_edit` for /v1/images/edits (OpenAI's event names). */
export type StreamKind = 'image_generation' | 'image_edit';

const OPENAI_QUALITY: Record<string, string> = { draft: 'low', standard: 'medium', high: 'high' };

/** One Server-Sent Event: `event:` names the type, `data:` is one line of JSON (JSON has no raw newlines). */
export function sseEvent(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The `image_…completed` event of one stored image, in OpenAI's shape, with Pixel's block for that image. */
export function completedEvent(
  kind: StreamKind,
  result: GenerateAndStoreResult,
  index: number,
  bytes: Uint8Array,
  requested: { quality?: string; background?: string },
): Record<string, unknown> {
  const image = result.images[index]!;
  const format = image.mediaType.replace('image/', '');
  const block = pixelBlock(result);
  return {
    type: `${kind}.completed`,
    b64_json: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
    created_at: Math.floor(image.createdAt.getTime() / 1000),
    size: `${image.width}x${image.height}`,
    quality: OPENAI_QUALITY[requested.quality ?? ''] ?? 'auto',
    background: requested.background ?? 'auto',
    output_format: format === 'jpg' ? 'jpeg' : format,
    pixel: { ...block, images: [image.id], seeds: [image.seed], index },
  };
}

/** An `image_….partial_image` event: a provider's partial image, as the provider sent it. */
export function partialEvent(
  kind: StreamKind,
  partial: NonNullable<ProviderProgress['partial']>,
  requested: { quality?: string; background?: string },
): Record<string, unknown> {
  const format = partial.mediaType.replace('image/', '');
  return {
    type: `${kind}.partial_image`,
    b64_json: Buffer.from(partial.bytes.buffer, partial.bytes.byteOffset, partial.bytes.byteLength).toString(
      'base64',
    ),
    partial_image_index: partial.index,
    created_at: Math.floor(Date.now() / 1000),
    size: `${partial.width}x${partial.height}`,
    quality: OPENAI_QUALITY[requested.quality ?? ''] ?? 'auto',
    background: requested.background ?? 'auto',
    output_format: format === 'jpg' ? 'jpeg' : format,
  };
}

/**
 * Answers with Server-Sent Events in OpenAI's image streaming format. Nothing is sent until the provider
 * call starts, so a request refused up front (bad field, unknown model, no credentials) still gets its
 * plain HTTP error; a failure after that arrives as an `error` event, which OpenAI's SDKs raise. Each
 * stored image is one `…completed` event, preceded by `…partial_image` events where the model sends
 * partial images (catalogue field `partialImages`) and they were asked for.
 */
export async function streamImages(
  reply: FastifyReply,
  kind: StreamKind,
  run: (onProgress: (event: ServiceProgress) => void) => Promise<GenerateAndStoreResult>,
  imageBytes: (result: GenerateAndStoreResult) => Promise<Uint8Array[]>,
  requested: { quality?: string; background?: string },
): Promise<FastifyReply> {
  const out = new PassThrough();
  let opened = false;
  const open = () => {
    if (opened) return;
    opened = true;
    reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .send(out);
  };
  let result: GenerateAndStoreResult;
  try {
    let lastCall = 0;
    // A provider call retried after a failure mid-stream starts its partials again: indices only go up.
    let lastPartial = -1;
    result = await run((event) => {
      if (event.stage !== 'generating') return;
      open();
      if (event.call !== lastCall) {
        lastCall = event.call;
        // A comment line: SSE clients skip it; it keeps proxies from timing out an idle stream.
        out.write(`: ${event.stage} ${event.route} call ${event.call}/${event.calls}\n\n`);
      }
      const partial = event.provider?.partial;
      if (partial && partial.index > lastPartial) {
        lastPartial = partial.index;
        out.write(sseEvent(`${kind}.partial_image`, partialEvent(kind, partial, requested)));
      }
    });
  } catch (error) {
    if (!opened) throw error;
    out.end(sseEvent('error', openAIErrorBody(toPixelError(error)).body));
    return reply;
  }
  open();
  try {
    const bytes = await imageBytes(result);
    bytes.forEach((b, i) => {
      const event = completedEvent(kind, result, i, b, requested);
      out.write(sseEvent(String(event.type), event));
    });
    out.end();
  } catch (error) {
    out.end(sseEvent('error', openAIErrorBody(toPixelError(error)).body));
  }
  return reply;
}
