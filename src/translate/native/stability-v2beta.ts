import type { BodyBuilder } from '../types.ts';
import { cfgField, compact, ratioOf, supported } from './shared.ts';

/**
 * /v2beta/stable-image/generate/{ultra,core,sd3}: the multipart form fields as a plain object (the
 * adapter turns it into FormData). `model` and `cfg_scale` exist only on the sd3 endpoint.
 */
export const stabilityV2beta: BodyBuilder = {
  managedFields: [
    'prompt',
    'negative_prompt',
    'aspect_ratio',
    'seed',
    'style_preset',
    'output_format',
    'model',
    'cfg_scale',
    'mode',
  ],
  passthroughFields: {},
  build(entry, inputs) {
    const s = supported(entry, inputs);
    const sd3 = entry.family === 'sd3';
    return compact({
      prompt: inputs.prompt,
      negative_prompt: s.negativePrompt,
      aspect_ratio: ratioOf('stability-v2beta', entry, inputs.size),
      seed: s.seed,
      style_preset: s.style,
      output_format: inputs.format,
      model: sd3 ? entry.providerModelId : undefined,
      ...(sd3 ? cfgField(entry, inputs.cfg) : {}),
    });
  },
};
