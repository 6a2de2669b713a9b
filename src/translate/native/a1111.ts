import type { BodyBuilder } from '../types.ts';
import { cfgField, compact, pixelsOf, supported } from './shared.ts';

/** providerModelId `default` means "whatever checkpoint the WebUI has loaded": no override. */
const LOADED_CHECKPOINT = 'default';

/** POST /sdapi/v1/txt2img. Images = batch_size × n_iter; Pixel always uses one iteration. */
export const a1111: BodyBuilder = {
  managedFields: [
    'prompt',
    'negative_prompt',
    'width',
    'height',
    'cfg_scale',
    'steps',
    'seed',
    'batch_size',
    'n_iter',
    'override_settings',
  ],
  passthroughFields: {
    sampler_name: 'string',
    scheduler: 'string',
    enable_hr: 'boolean',
    hr_scale: 'number',
    hr_upscaler: 'string',
    hr_second_pass_steps: 'number',
    denoising_strength: 'number',
    restore_faces: 'boolean',
    tiling: 'boolean',
    styles: 'array',
    subseed: 'number',
    subseed_strength: 'number',
    alwayson_scripts: 'object',
  },
  build(entry, inputs) {
    const s = supported(entry, inputs);
    // A1111 applies LoRAs from the prompt's `<lora:name:weight>` syntax.
    const lora = inputs.lora ? ` <lora:${inputs.lora.name}:${inputs.lora.strength ?? 1}>` : '';
    const checkpoint = entry.providerModelId;
    return compact({
      prompt: `${inputs.prompt}${lora}`,
      negative_prompt: s.negativePrompt,
      ...pixelsOf(inputs.size),
      ...cfgField(entry, inputs.cfg),
      steps: s.steps,
      // -1 is A1111's "random"; translation normally always sends a seed.
      seed: s.seed ?? -1,
      batch_size: inputs.count,
      n_iter: 1,
      override_settings: checkpoint === LOADED_CHECKPOINT ? undefined : { sd_model_checkpoint: checkpoint },
    });
  },
};
