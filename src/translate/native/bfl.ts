import type { BodyBuilder } from '../types.ts';
import { cfgField, compact, pixelsOf, supported } from './shared.ts';

/** POST /v1/{model} on api.bfl.ai (flux-dev adds steps and guidance). */
export const bfl: BodyBuilder = {
  managedFields: ['prompt', 'width', 'height', 'seed', 'steps', 'guidance', 'output_format'],
  passthroughFields: { safety_tolerance: 'number', prompt_upsampling: 'boolean' },
  build(entry, inputs) {
    const s = supported(entry, inputs);
    return compact({
      prompt: inputs.prompt,
      ...pixelsOf(inputs.size),
      seed: s.seed,
      steps: s.steps,
      ...cfgField(entry, inputs.cfg),
      output_format: inputs.format,
    });
  },
};
