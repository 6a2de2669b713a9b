import { PixelError } from '../../protocol/errors.ts';
import { renderSketch, SKETCH_NOTE, type SketchOptions } from '../../sketch/render.ts';
import type { SketchTune } from '../../sketch/scene.ts';
import { sceneShapeCount } from '../../sketch/scene.ts';
import { cancelled } from '../common/http.ts';
import type { ProviderAdapter, ProviderCall, ProviderImage, ProviderResult } from '../types.ts';
import { parseSketchBody } from './wire.ts';

/** What a `pixel/sketch-tune` image is, said in every result that used one. */
export const SKETCH_TUNE_NOTE =
  'pixel/sketch-tune is a placeholder fine-tune: it learned only colours and proportions from its dataset, no weights were trained';

/** The only model this adapter serves (catalogue id `pixel/sketch`). */
export const SKETCH_MODEL_ID = 'sketch';

/** Rejects as soon as the signal fires, so a long render does not hold a cancelled caller. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(cancelled(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The first input image (pixel/sketch draws over one) and the mask, as bytes. */
function inputImage(image: unknown, mask: unknown): { image: Uint8Array; mask?: Uint8Array } | undefined {
  if (image === undefined) return undefined;
  const first = Array.isArray(image) ? image[0] : image;
  if (!(first instanceof Uint8Array)) {
    throw new PixelError({
      code: 'invalid_argument',
      field: 'image',
      message: 'the input image must be bytes',
    });
  }
  if (mask !== undefined && !(mask instanceof Uint8Array)) {
    throw new PixelError({ code: 'invalid_argument', field: 'mask', message: 'the mask must be bytes' });
  }
  return { image: first, ...(mask instanceof Uint8Array && { mask }) };
}

/**
 * Partial images of a sketch as it is drawn: the backdrop, then one more shape each (at most
 * `call.partialImages`, and never the finished picture itself).
 */
async function sendPartials(call: ProviderCall, options: SketchOptions): Promise<void> {
  const frames = Math.min(call.partialImages ?? 0, sceneShapeCount(options.prompt, options.negativePrompt));
  for (let index = 0; index < frames; index++) {
    if (call.signal?.aborted) throw cancelled(call.signal);
    const partial = await untilAborted(renderSketch({ ...options, shapes: index }), call.signal);
    call.onProgress?.({
      status: 'rendering',
      fraction: 0,
      partial: {
        index,
        bytes: partial.bytes,
        mediaType: partial.mediaType,
        width: partial.width,
        height: partial.height,
      },
    });
  }
}

export interface PixelAdapterOptions {
  /**
   * The learned look of a `pixel/sketch-tune` fine-tune served under this catalogue id (`ft/<name>`), if it
   * is one: the sketch is then drawn in its palette and proportions.
   */
  tuneFor?: (modelId: string) => SketchTune | undefined;
}

/** The built-in offline model: no network, no keys, n images with seeds seed, seed+1, … (wrapping at 2^32). */
export function createPixelAdapter(adapterOptions: PixelAdapterOptions = {}): ProviderAdapter {
  return {
    name: 'pixel',
    async generate(call: ProviderCall): Promise<ProviderResult> {
      if (call.model.providerModelId !== SKETCH_MODEL_ID) {
        throw new PixelError({
          code: 'not_found',
          field: 'model',
          reason: 'unknown_model',
          provider: 'pixel',
          message: `the pixel provider serves only pixel/${SKETCH_MODEL_ID}, not ${call.model.id}`,
        });
      }
      // An edit's input image and mask ride beside the native body (see generate/input-images.ts).
      const { image, mask, ...native } = call.body;
      const body = parseSketchBody(native);
      const over = inputImage(image, mask);
      if (body.n !== call.count) {
        throw new PixelError({
          code: 'invalid_argument',
          field: 'n',
          reason: 'validation',
          message: `n is ${body.n} in the body but the call asks for ${call.count} images`,
        });
      }
      const tune = adapterOptions.tuneFor?.(call.model.id);
      const images: ProviderImage[] = [];
      const recognised = new Set<string>();
      for (let i = 0; i < body.n; i++) {
        if (call.signal?.aborted) throw cancelled(call.signal);
        call.onProgress?.({ status: 'rendering', fraction: i / body.n });
        const seed = (body.seed + i) >>> 0;
        const options: SketchOptions = {
          prompt: body.prompt,
          negativePrompt: body.negativePrompt,
          width: body.width,
          height: body.height,
          seed,
          style: body.style,
          format: body.format,
          background: body.background,
          ...(over && { over }),
          ...(tune && { tune }),
        };
        if (i === 0 && call.partialImages) await sendPartials(call, options);
        const image = await untilAborted(renderSketch(options), call.signal);
        for (const word of image.recognised) recognised.add(word);
        images.push({
          bytes: image.bytes,
          mediaType: image.mediaType,
          width: image.width,
          height: image.height,
          seed,
        });
      }
      call.onProgress?.({ status: 'done', fraction: 1 });
      const words = [...recognised];
      return {
        images,
        costUsd: 0,
        usage: { recognised: words },
        notes: [
          SKETCH_NOTE,
          ...(tune ? [SKETCH_TUNE_NOTE] : []),
          words.length > 0
            ? `recognised words: ${words.join(', ')}`
            : 'no known words in the prompt: drew an abstract shape',
        ],
      };
    },
  };
}
