import type { BodyBuilder } from '../types.ts';
import { compact, ratioOf } from './shared.ts';

/** generateContent for Gemini image-output models: the size is imageConfig.aspectRatio (+ imageSize). */
export const gemini: BodyBuilder = {
  managedFields: ['contents', 'generationConfig', 'responseModalities', 'imageConfig', 'seed'],
  // These land in generationConfig (translation nests pass-through fields there).
  passthroughFields: { temperature: 'number', topP: 'number', topK: 'number' },
  build(entry, inputs) {
    const imageConfig = compact({
      aspectRatio: ratioOf('gemini', entry, inputs.size),
      imageSize: inputs.size.kind === 'ratio' ? inputs.size.resolution : undefined,
    });
    return {
      contents: [{ role: 'user', parts: [{ text: inputs.prompt }] }],
      generationConfig: { responseModalities: ['TEXT', 'IMAGE'], imageConfig },
    };
  },
};
