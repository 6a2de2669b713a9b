import { checkImage, decodeBase64Image, malformed } from '../common/http.ts';
import type { ProviderCall, ProviderImage, ProviderResult } from '../types.ts';
import { readSse } from './sse.ts';
import {
  CompletedEventSchema,
  type OpenAIErrorBody,
  PartialImageEventSchema,
  StreamErrorSchema,
} from './wire.ts';

const PROVIDER = 'openai';

/** What the stream ended with: the result, or the error event OpenAI sent after the stream opened. */
export type StreamOutcome =
  | { ok: true; result: ProviderResult }
  | { ok: false; error: OpenAIErrorBody; status: number };

/**
 * Reads the Server-Sent Events of a streamed generation or edit: each `…partial_image` goes to
 * `call.onProgress` as it arrives (checked to be an image first), each `…completed` is one image of the
 * result. An `error` event ends the stream with OpenAI's error object; a stream that ends before
 * `call.count` images were completed is a malformed answer.
 */
export async function readImageStream(
  body: AsyncIterable<Uint8Array>,
  call: ProviderCall,
  requestId: string | undefined,
): Promise<StreamOutcome> {
  const images: ProviderImage[] = [];
  const usage: Record<string, unknown> = {};
  for await (const sse of readSse(body)) {
    let data: unknown;
    try {
      data = JSON.parse(sse.data);
    } catch {
      throw malformed(
        PROVIDER,
        `sent a "${sse.event}" event whose data is not JSON (${sse.data.slice(0, 80)})`,
      );
    }
    const type =
      typeof (data as { type?: unknown })?.type === 'string' ? (data as { type: string }).type : '';
    if (sse.event === 'error' || type === 'error') {
      const parsed = StreamErrorSchema.safeParse(data);
      if (!parsed.success)
        throw malformed(PROVIDER, `sent an error event of unknown shape (${sse.data.slice(0, 120)})`);
      const flat = parsed.data as { message?: unknown; code?: string | null; param?: string | null };
      const nested = (parsed.data as { error?: OpenAIErrorBody }).error;
      const error: OpenAIErrorBody = nested ?? {
        message: String(flat.message),
        code: flat.code ?? null,
        param: flat.param ?? null,
        type: null,
      };
      return { ok: false, error, status: statusOf(error) };
    }
    if (type.endsWith('.partial_image')) {
      const event = PartialImageEventSchema.safeParse(data);
      if (!event.success) throw malformed(PROVIDER, `sent a partial image event ${issueOf(event.error)}`);
      const e = event.data;
      const bytes = decodeBase64Image(PROVIDER, e.b64_json, `${type}.b64_json`);
      const image = await checkImage(PROVIDER, bytes, `image/${e.output_format}`);
      call.onProgress?.({
        status: 'partial_image',
        partial: {
          index: e.partial_image_index,
          bytes: image.bytes,
          mediaType: image.mediaType,
          width: image.width,
          height: image.height,
        },
      });
    } else if (type.endsWith('.completed')) {
      const event = CompletedEventSchema.safeParse(data);
      if (!event.success) throw malformed(PROVIDER, `sent a completed event ${issueOf(event.error)}`);
      const e = event.data;
      const bytes = decodeBase64Image(PROVIDER, e.b64_json, `${type}.b64_json`);
      images.push(await checkImage(PROVIDER, bytes, `image/${e.output_format}`));
      // The first image's usage and settings stand for the call, as the JSON answer's top-level fields do.
      if (images.length === 1) {
        Object.assign(usage, e.usage ?? {}, {
          quality: e.quality,
          size: e.size,
          output_format: e.output_format,
          background: e.background,
        });
      }
    }
    // Other event types (newer than this adapter) carry nothing it needs.
  }
  if (images.length === 0) throw malformed(PROVIDER, 'ended the stream without an image');
  if (images.length < call.count) {
    throw malformed(PROVIDER, `ended the stream after ${images.length} images, ${call.count} were asked for`);
  }
  return { ok: true, result: { images, requestId, usage } };
}

/** The HTTP status the same error has when OpenAI answers it up front (an error event carries none). */
function statusOf(error: OpenAIErrorBody): number {
  if (error.code === 'rate_limit_exceeded' || error.code === 'insufficient_quota') return 429;
  if (error.type === 'requests' || error.type === 'tokens') return 429;
  if (error.type === 'invalid_request_error' || error.type === 'image_generation_user_error') return 400;
  if (error.code === 'moderation_blocked' || error.code === 'content_policy_violation') return 400;
  return 500;
}

function issueOf(error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> }): string {
  const issue = error.issues[0];
  return `that is not OpenAI's shape (${issue?.path.map(String).join('.') || '?'}: ${issue?.message})`;
}
