import type { BodyBuilder } from '../types.ts';
import { cfgField, compact, pixelsOf, supported } from './shared.ts';

/** POST /v1/generation/{engine}/text-to-image: the negative prompt is a text prompt with negative weight. */
export const stabilityV1: BodyBuilder = {
  managedFields: ['text_prompts', 'width', 'height', 'cfg_scale', 'steps', 'samples', 'seed', 'style_preset'],
  passthroughFields: { sampler: 'string', clip_guidance_preset: 'string', extras: 'object' },
  build(entry, inputs) {
    const s = supported(entry, inputs);
    const textPrompts: Array<{ text: string; weight: number }> = [{ text: inputs.prompt, weight: 1 }];
    if (s.negativePrompt) textPrompts.push({ text: s.negativePrompt, weight: -1 });
    return compact({
      text_prompts: textPrompts,
      ...pixelsOf(inputs.size),
      ...cfgField(entry, inputs.cfg),
      steps: s.steps,
      samples: inputs.count,
      seed: s.seed,
      style_preset: s.style,
    });
  },
};
