import type { BodyBuilder } from '../types.ts';
import { builderError, cfgField, compact, supported } from './shared.ts';

/**
 * `{ input }` for official models (POST /models/{owner}/{name}/predictions) and `{ version, input }`
 * for community models (POST /predictions), whose providerModelId is `owner/name:version`.
 */
export const replicate: BodyBuilder = {
  managedFields: [
    'prompt',
    'negative_prompt',
    'aspect_ratio',
    'width',
    'height',
    'num_outputs',
    'num_inference_steps',
    'guidance',
    'guidance_scale',
    'seed',
    'output_format',
  ],
  passthroughFields: {
    go_fast: 'boolean',
    megapixels: 'string',
    output_quality: 'number',
    disable_safety_checker: 'boolean',
    safety_tolerance: 'number',
    prompt_upsampling: 'boolean',
    scheduler: 'string',
    refine: 'string',
    high_noise_frac: 'number',
    apply_watermark: 'boolean',
  },
  build(entry, inputs) {
    const s = supported(entry, inputs);
    const size = inputs.size;
    let sizeFields: Record<string, unknown>;
    if (size.kind === 'ratio') sizeFields = { aspect_ratio: size.ratio };
    else if (size.kind === 'preset')
      throw builderError('replicate', entry, `has no size presets, got "${size.preset}"`);
    // FLUX pro takes exact pixels only with aspect_ratio "custom"; SDXL takes width/height directly.
    else if (entry.family === 'flux')
      sizeFields = { aspect_ratio: 'custom', width: size.width, height: size.height };
    else sizeFields = { width: size.width, height: size.height };

    const input = compact({
      prompt: inputs.prompt,
      negative_prompt: s.negativePrompt,
      ...sizeFields,
      // Single-output models (flux-1.1-pro) have no num_outputs input at all.
      num_outputs: entry.imagesPerCall > 1 ? inputs.count : undefined,
      num_inference_steps: s.steps,
      ...cfgField(entry, inputs.cfg),
      seed: s.seed,
      // Only models with a choice of formats have the field; Replicate spells jpeg "jpg".
      output_format:
        entry.formats.length > 1 ? (inputs.format === 'jpeg' ? 'jpg' : inputs.format) : undefined,
    });
    const colon = entry.providerModelId.indexOf(':');
    return colon === -1 ? { input } : { version: entry.providerModelId.slice(colon + 1), input };
  },
};
