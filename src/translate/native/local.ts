import type { BodyBuilder } from '../types.ts';
import { builderError, compact, pixelsOf } from './shared.ts';

/** The built-in `pixel/sketch` renderer's body (camelCase; read by src/providers/pixel). */
export const local: BodyBuilder = {
  managedFields: [
    'prompt',
    'negativePrompt',
    'width',
    'height',
    'seed',
    'style',
    'n',
    'format',
    'background',
  ],
  passthroughFields: {},
  build(entry, inputs) {
    // Every sketch image must be reproducible, so the seed is part of the body, never implied.
    if (inputs.seed === undefined) throw builderError('local', entry, 'needs a seed');
    return compact({
      prompt: inputs.prompt,
      negativePrompt: inputs.negativePrompt,
      ...pixelsOf(inputs.size),
      seed: inputs.seed,
      style: inputs.style,
      n: inputs.count,
      format: inputs.format,
      background: inputs.background ?? 'opaque',
    });
  },
};
