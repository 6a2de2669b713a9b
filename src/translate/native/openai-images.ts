import type { BodyBuilder } from '../types.ts';
import { compact, pixelsOf, supported } from './shared.ts';

/** POST /v1/images/generations (JSON). GPT image fields and DALL·E fields differ (providers.md §1). */
export const openaiImages: BodyBuilder = {
  managedFields: [
    'model',
    'prompt',
    'n',
    'size',
    'quality',
    'output_format',
    'background',
    'style',
    'response_format',
  ],
  passthroughFields: { moderation: 'string', output_compression: 'number', user: 'string' },
  build(entry, inputs) {
    const s = supported(entry, inputs);
    const { width, height } = pixelsOf(inputs.size);
    const gpt = entry.family === 'gpt-image';
    return compact({
      model: entry.providerModelId,
      prompt: inputs.prompt,
      n: inputs.count,
      size: `${width}x${height}`,
      quality: s.tier,
      output_format: gpt ? inputs.format : undefined,
      background: gpt ? inputs.background : undefined,
      style: entry.family === 'dall-e' ? s.style : undefined,
      // DALL·E answers with URLs valid 60 minutes by default; base64 avoids a second fetch.
      response_format: gpt ? undefined : 'b64_json',
    });
  },
};
