import { describe, expect, it } from 'vitest';
import { DEFAULT_WORKFLOW } from './comfyui.ts';
import { fillWorkflow, type Link, type Workflow } from './comfyui-fill.ts';

const VALUES = {
  prompt: 'p',
  negative_prompt: 'n',
  seed: 1,
  steps: 20,
  cfg: 7,
  width: 1024,
  height: 1024,
  batch_size: 1,
  checkpoint: 'base.safetensors',
};

const isLink = (v: unknown): v is Link => Array.isArray(v) && typeof v[0] === 'string';

/** Every link points at an existing node: the check ComfyUI's validator makes first. */
function linksResolve(graph: Workflow): boolean {
  return Object.values(graph).every((node) =>
    Object.values(node.inputs).every((v) => !isLink(v) || graph[v[0]] !== undefined),
  );
}

const idOf = (graph: Workflow, classType: string) =>
  Object.keys(graph).find((k) => graph[k]!.class_type === classType)!;

describe('fillWorkflow', () => {
  it('fills every placeholder of the default template and leaves the template untouched', () => {
    const before = JSON.stringify(DEFAULT_WORKFLOW);
    const graph = fillWorkflow(DEFAULT_WORKFLOW, VALUES);
    expect(JSON.stringify(graph)).not.toContain('{{');
    expect(JSON.stringify(DEFAULT_WORKFLOW)).toBe(before);
    expect(linksResolve(graph)).toBe(true);
    expect(
      Object.values(graph)
        .map((n) => n.class_type)
        .sort(),
    ).toEqual(
      [
        'CLIPTextEncode',
        'CLIPTextEncode',
        'CheckpointLoaderSimple',
        'EmptyLatentImage',
        'KSampler',
        'SaveImage',
        'VAEDecode',
      ].sort(),
    );
  });

  it('inserts a LoraLoader between the checkpoint and its MODEL/CLIP consumers', () => {
    const graph = fillWorkflow(DEFAULT_WORKFLOW, VALUES, { name: 'ribeye.safetensors', strength: 0.7 });
    const lora = idOf(graph, 'LoraLoader');
    const ckpt = idOf(graph, 'CheckpointLoaderSimple');
    expect(graph[lora]!.inputs).toMatchObject({
      model: [ckpt, 0],
      clip: [ckpt, 1],
      lora_name: 'ribeye.safetensors',
      strength_model: 0.7,
      strength_clip: 0.7,
    });
    expect(graph[idOf(graph, 'KSampler')]!.inputs.model).toEqual([lora, 0]);
    for (const node of Object.values(graph).filter((n) => n.class_type === 'CLIPTextEncode')) {
      expect(node.inputs.clip).toEqual([lora, 1]);
    }
    // The VAE still comes straight from the checkpoint.
    expect(graph[idOf(graph, 'VAEDecode')]!.inputs.vae).toEqual([ckpt, 2]);
    expect(linksResolve(graph)).toBe(true);
  });

  it('fills a template LoraLoader placeholder, or bypasses that node when no LoRA is given', () => {
    const template: Workflow = structuredClone(DEFAULT_WORKFLOW);
    template['20'] = {
      class_type: 'LoraLoader',
      inputs: {
        model: ['4', 0],
        clip: ['4', 1],
        lora_name: '{{lora}}',
        strength_model: '{{lora_strength}}',
        strength_clip: 1,
      },
    };
    template['3']!.inputs.model = ['20', 0];
    template['6']!.inputs.clip = ['20', 1];

    const filled = fillWorkflow(template, VALUES, { name: 'x.safetensors' });
    expect(filled['20']!.inputs.lora_name).toBe('x.safetensors');
    expect(filled['20']!.inputs.strength_model).toBe(1);
    expect(Object.values(filled).filter((n) => n.class_type === 'LoraLoader')).toHaveLength(1);

    const bypassed = fillWorkflow(template, VALUES);
    expect(bypassed['20']).toBeUndefined();
    expect(bypassed['3']!.inputs.model).toEqual(['4', 0]);
    expect(bypassed['6']!.inputs.clip).toEqual(['4', 1]);
    expect(linksResolve(bypassed)).toBe(true);
  });

  it('fails loudly on a placeholder it has no value for', () => {
    const template: Workflow = {
      '1': { class_type: 'SaveImage', inputs: { filename_prefix: '{{mystery}}' } },
    };
    expect(() => fillWorkflow(template, VALUES)).toThrow(
      /node 1 \(SaveImage\)\.filename_prefix: no value for placeholder \{\{mystery\}\}/,
    );
  });
});
