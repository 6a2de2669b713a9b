import type { BodyBuilder } from '../types.ts';
import { fillWorkflow, type Workflow } from './comfyui-fill.ts';
import template from './comfyui-workflow.json' with { type: 'json' };
import { supported } from './shared.ts';

/** The default SDXL txt2img graph (CheckpointLoaderSimple → CLIPTextEncode ×2 → KSampler → VAEDecode → SaveImage). */
export const DEFAULT_WORKFLOW = template as Workflow;

/** POST /prompt body: `{ prompt: <API-format graph> }` (the adapter adds client_id). */
export const comfyui: BodyBuilder = {
  managedFields: ['prompt'],
  passthroughFields: {},
  build(entry, inputs) {
    const s = supported(entry, inputs);
    const graph = fillWorkflow(
      DEFAULT_WORKFLOW,
      {
        prompt: inputs.prompt,
        negative_prompt: s.negativePrompt ?? '',
        seed: s.seed ?? 0,
        steps: s.steps ?? (entry.steps?.kind === 'range' ? entry.steps.default : undefined),
        cfg: inputs.cfg ?? entry.cfg?.default,
        width: inputs.size.width,
        height: inputs.size.height,
        batch_size: inputs.count,
        checkpoint: entry.providerModelId,
      },
      inputs.lora,
    );
    return { prompt: graph };
  },
};
