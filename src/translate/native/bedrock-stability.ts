import type { BodyBuilder } from '../types.ts';
import { compact, ratioOf, supported } from './shared.ts';

/** Stability models on Bedrock take JSON (not multipart); `mode` is an SD3.5 field. */
export const bedrockStability: BodyBuilder = {
  managedFields: ['prompt', 'aspect_ratio', 'mode', 'seed', 'negative_prompt', 'output_format'],
  passthroughFields: {},
  build(entry, inputs) {
    const s = supported(entry, inputs);
    return compact({
      prompt: inputs.prompt,
      aspect_ratio: ratioOf('bedrock-stability', entry, inputs.size),
      mode: entry.family === 'sd3' ? 'text-to-image' : undefined,
      seed: s.seed,
      negative_prompt: s.negativePrompt,
      output_format: inputs.format,
    });
  },
};
