import { PixelError } from '../../protocol/errors.ts';
import { renderSketch, SKETCH_NOTE } from '../../sketch/render.ts';
import { cancelled } from '../shared/http.ts';
import type { ProviderAdapter, ProviderCall, ProviderImage, ProviderResult } from '../types.ts';
import { parseSketchBody } from './wire.ts';

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

/** The built-in offline model: no network, no keys, n images with seeds seed, seed+1, … (wrapping at 2^32). */
export function createPixelAdapter(): ProviderAdapter {
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
      const body = parseSketchBody(call.body);
      if (body.n !== call.count) {
        throw new PixelError({
          code: 'invalid_argument',
          field: 'n',
          reason: 'validation',
          message: `n is ${body.n} in the body but the call asks for ${call.count} images`,
        });
      }
      const images: ProviderImage[] = [];
      const recognised = new Set<string>();
      for (let i = 0; i < body.n; i++) {
        if (call.signal?.aborted) throw cancelled(call.signal);
        call.onProgress?.({ status: 'rendering', fraction: i / body.n });
        const seed = (body.seed + i) >>> 0;
        const image = await untilAborted(
          renderSketch({
            prompt: body.prompt,
            negativePrompt: body.negativePrompt,
            width: body.width,
            height: body.height,
            seed,
            style: body.style,
            format: body.format,
            background: body.background,
          }),
          call.signal,
        );
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
          words.length > 0
            ? `recognised words: ${words.join(', ')}`
            : 'no known words in the prompt: drew an abstract shape',
        ],
      };
    },
  };
}
