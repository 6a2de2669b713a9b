import { generateText, Output } from 'ai';
import { z } from 'zod';
import { PixelError } from '../protocol/errors.ts';
import { INSPECT_ID } from '../quality/inspect/inspect.ts';
import { measurePixels, nameColour } from '../quality/inspect/measure.ts';
import { judgeModelInfo } from '../quality/judges/catalog.ts';
import { captionMessages, JUDGE_SYSTEM } from '../quality/judges/messages.ts';
import { sniffingFetch } from '../quality/judges/refusal-sniffer.ts';
import { llmError, malformed, refusal } from '../quality/llm/errors.ts';
import { connectionFromEnv, type LlmConnection, languageModel, parseLlmSpec } from '../quality/llm/models.ts';
import type { JudgeImage } from '../quality/types.ts';

/** How a dataset's captions are written when its files give none: `vlm` asks a vision model. */
export const CAPTION_MODES = ['vlm'] as const;
export type CaptionMode = (typeof CAPTION_MODES)[number];

/** The longest caption kept (the dataset rules refuse longer hand-written ones). */
const MAX_CAPTION = 300;

/** Writes a training caption for one product image. */
export interface Captioner {
  /** `pixel/inspect` (the offline stand-in) or the vision model, e.g. `anthropic/claude-haiku-4-5`. */
  readonly id: string;
  caption(image: JudgeImage, category: string, signal?: AbortSignal): Promise<string>;
}

/**
 * The offline stand-in: `pixel/inspect` is not a vision model, so its caption is what it measures (the
 * subject's main colour and the backdrop's tone) and says so: "a purple bakery product on a light grey
 * backdrop (pixel/inspect stand-in: colours measured, nothing recognised)". Deterministic.
 */
export function createInspectCaptioner(): Captioner {
  return {
    id: INSPECT_ID,
    async caption(image, category, signal) {
      signal?.throwIfAborted();
      const stats = await measurePixels(image.bytes);
      const colour = stats.subject.box ? stats.dominant[0]?.name : undefined;
      const backdrop = nameColour(stats.border.r, stats.border.g, stats.border.b);
      const subject = colour ? `a ${colour} ${category} product` : `a ${category} product`;
      return `${subject} on a ${backdrop} backdrop (pixel/inspect stand-in: colours measured, nothing recognised)`;
    },
  };
}

const CaptionSchema = z.object({ caption: z.string() });

/**
 * A vision model writing the caption through the AI SDK, as the gate's judges call it (same providers,
 * keys and base URLs; a refusal or output that is not the asked-for structure is an error, never a caption).
 */
export function createVlmCaptioner(options: { model: string; connection: LlmConnection }): Captioner {
  const info = judgeModelInfo(options.model, 'captions');
  const id = options.model;
  return {
    id,
    async caption(image, category, signal) {
      const sniff = sniffingFetch(info.spec.provider, options.connection.fetch);
      const model = languageModel(info.spec, { ...options.connection, fetch: sniff.fetch });
      let output: { caption: string };
      try {
        const result = await generateText({
          model,
          system: JUDGE_SYSTEM,
          messages: captionMessages(image, category),
          output: Output.object({ schema: CaptionSchema }),
          maxRetries: 1,
          ...(signal && { abortSignal: signal }),
        });
        if (sniff.seen.refusal) throw refusal(id, sniff.seen.refusal, 'captions');
        if (result.finishReason === 'content-filter')
          throw refusal(id, 'finish reason content-filter', 'captions');
        output = result.output;
      } catch (error) {
        if (sniff.seen.refusal) throw refusal(id, sniff.seen.refusal, 'captions');
        throw llmError(error, id, 'captions');
      }
      const caption = output.caption.replace(/\s+/g, ' ').trim();
      if (caption === '') throw malformed(id, 'an empty caption', 'captions');
      return caption.length > MAX_CAPTION ? `${caption.slice(0, MAX_CAPTION - 1).trimEnd()}…` : caption;
    },
  };
}

/**
 * The captioner `--captions vlm` uses: PIXEL_FINETUNE_CAPTION_MODEL, else the fine-tune judge
 * (PIXEL_FINETUNE_JUDGE) when it is one vision model, else the pixel/inspect stand-in.
 */
export function captionerFromEnv(env: NodeJS.ProcessEnv): Captioner {
  const judge = env.PIXEL_FINETUNE_JUDGE?.trim();
  const named =
    env.PIXEL_FINETUNE_CAPTION_MODEL?.trim() ||
    (judge && judge !== INSPECT_ID && !judge.includes(':') ? judge : undefined);
  if (!named || named === INSPECT_ID) return createInspectCaptioner();
  const field = env.PIXEL_FINETUNE_CAPTION_MODEL?.trim()
    ? 'PIXEL_FINETUNE_CAPTION_MODEL'
    : 'PIXEL_FINETUNE_JUDGE';
  const spec = parseLlmSpec(named, field);
  return createVlmCaptioner({ model: named, connection: connectionFromEnv(spec.provider, env) });
}

/** Captions `images` that have none, in order; an error names the file it was about. */
export async function captionImages<
  T extends { file: string; bytes: Uint8Array; mediaType: string; caption?: string },
>(
  images: readonly T[],
  captioner: Captioner,
  category: string,
  signal?: AbortSignal,
): Promise<Array<T & { captionBy?: string }>> {
  const out: Array<T & { captionBy?: string }> = [];
  for (const image of images) {
    if (image.caption) {
      out.push(image);
      continue;
    }
    try {
      const caption = await captioner.caption(
        { bytes: image.bytes, mediaType: image.mediaType },
        category,
        signal,
      );
      out.push({ ...image, caption, captionBy: captioner.id });
    } catch (error) {
      const cause = PixelError.isInstance(error) ? error : llmError(error, captioner.id, 'captions');
      throw new PixelError({
        code: cause.code,
        field: `images.${image.file}`,
        reason: cause.reason ?? 'caption_failed',
        ...(cause.provider !== undefined && { provider: cause.provider }),
        retryable: cause.retryable,
        message: `${image.file}: the caption by ${captioner.id} failed: ${cause.message}`,
        cause: error,
      });
    }
  }
  return out;
}
