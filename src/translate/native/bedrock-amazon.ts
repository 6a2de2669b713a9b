import type { ModelEntry } from '../../models/schema.ts';
import type { BodyBuilder, NativeInputs } from '../types.ts';
import { compact, pixelsOf, supported } from './shared.ts';

/** Titan Image Generator and Nova Canvas share the TEXT_IMAGE envelope; only Nova has `style`. */
function build(entry: ModelEntry, inputs: NativeInputs, withStyle: boolean): Record<string, unknown> {
  const s = supported(entry, inputs);
  return {
    taskType: 'TEXT_IMAGE',
    textToImageParams: compact({
      text: inputs.prompt,
      negativeText: s.negativePrompt,
      style: withStyle ? s.style : undefined,
    }),
    imageGenerationConfig: compact({
      numberOfImages: inputs.count,
      quality: s.tier,
      cfgScale: entry.cfg ? inputs.cfg : undefined,
      ...pixelsOf(inputs.size),
      seed: s.seed,
    }),
  };
}

const MANAGED = [
  'taskType',
  'textToImageParams',
  'imageGenerationConfig',
  'numberOfImages',
  'quality',
  'cfgScale',
  'width',
  'height',
  'seed',
] as const;

export const bedrockTitan: BodyBuilder = {
  managedFields: MANAGED,
  passthroughFields: {},
  build: (entry, inputs) => build(entry, inputs, false),
};

export const bedrockNova: BodyBuilder = {
  managedFields: MANAGED,
  passthroughFields: {},
  build: (entry, inputs) => build(entry, inputs, true),
};
