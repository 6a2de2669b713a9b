import type { BodyBuilder } from '../types.ts';
import { compact, ratioOf, supported } from './shared.ts';

/** Imagen :predict. Vertex honours the seed only without the watermark, so a seed turns it off. */
export const vertexImagen: BodyBuilder = {
  managedFields: [
    'instances',
    'parameters',
    'sampleCount',
    'aspectRatio',
    'negativePrompt',
    'seed',
    'addWatermark',
    'guidanceScale',
    'sampleImageSize',
    'outputOptions',
  ],
  // These land in `parameters` (translation nests pass-through fields there).
  passthroughFields: {
    personGeneration: 'string',
    safetySetting: 'string',
    enhancePrompt: 'boolean',
    includeRaiReason: 'boolean',
    includeSafetyAttributes: 'boolean',
    language: 'string',
  },
  build(entry, inputs) {
    const s = supported(entry, inputs);
    const parameters = compact({
      sampleCount: inputs.count,
      aspectRatio: ratioOf('vertex-imagen', entry, inputs.size),
      sampleImageSize: inputs.size.kind === 'ratio' ? inputs.size.resolution : undefined,
      negativePrompt: s.negativePrompt,
      seed: s.seed,
      addWatermark: s.seed !== undefined ? false : undefined,
      guidanceScale: entry.cfg ? inputs.cfg : undefined,
      outputOptions: { mimeType: `image/${inputs.format}` },
    });
    return { instances: [{ prompt: inputs.prompt }], parameters };
  },
};
