import type { BodyBuilder } from '../types.ts';
import { cfgField, compact, pixelsOf } from './shared.ts';

/** POST /v1/generation/{engine}/text-to-image: the negative prompt is a text prompt with negative weight. */
export const stabilityV1: BodyBuilder = {
  managedFields: ['text_prompts', 'width', 'height', 'cfg_scale', 'steps', 'samples', 'seed', 'style_preset'],
  passthroughFields: { sampler: 'string', clip_guidance_preset: 'string', extras: 'object' },
  build(entry, inputs) {
    const textPrompts: Array<{ text: string; weight: number }> = [{ text: inputs.prompt, weight: 1 }];
    if (inputs.negativePrompt) textPrompts.push({ text: inputs.negativePrompt, weight: -1 });
    return compact({
      text_prompts: textPrompts,
      ...pixelsOf(inputs.size),
      ...cfgField(entry, inputs.cfg),
      steps: inputs.steps,
      samples: inputs.count,
      seed: inputs.seed,
      style_preset: inputs.style,
    });
  },
};
