import type { BodyBuilder } from '../types.ts';
import { builderError, cfgField, compact, supported } from './shared.ts';

/** The JSON input of fal FLUX endpoints: `image_size` is a preset name or `{ width, height }`. */
export const fal: BodyBuilder = {
  managedFields: [
    'prompt',
    'image_size',
    'num_images',
    'guidance_scale',
    'num_inference_steps',
    'seed',
    'output_format',
  ],
  passthroughFields: {
    enable_safety_checker: 'boolean',
    acceleration: 'string',
    sync_mode: 'boolean',
    safety_tolerance: 'string',
    enhance_prompt: 'boolean',
  },
  build(entry, inputs) {
    const s = supported(entry, inputs);
    const size = inputs.size;
    if (size.kind === 'ratio')
      throw builderError('fal', entry, `takes pixels or a preset, got ratio ${size.ratio}`);
    return compact({
      prompt: inputs.prompt,
      image_size: size.kind === 'preset' ? size.preset : { width: size.width, height: size.height },
      num_images: inputs.count,
      ...cfgField(entry, inputs.cfg),
      num_inference_steps: s.steps,
      seed: s.seed,
      output_format: inputs.format,
      // fal's LoRA endpoints (fal-ai/flux-lora, fal-ai/flux-2/lora): the weights URL and its scale.
      loras: inputs.lora ? [{ path: inputs.lora.name, scale: inputs.lora.strength ?? 1 }] : undefined,
      // fal's own default, stated so the stored native request says what was asked; callers may
      // turn it off through providerOptions.fal.enable_safety_checker.
      enable_safety_checker: true,
    });
  },
};
