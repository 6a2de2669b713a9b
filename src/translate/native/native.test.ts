import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../models/catalog.ts';
import type { ModelEntry } from '../../models/schema.ts';
import { TRANSPORTS } from '../../models/schema.ts';
import type { NativeInputs, NativeSize } from '../types.ts';
import { BODY_BUILDERS } from './index.ts';

const catalog = loadCatalog();
const entry = (id: string): ModelEntry => {
  const found = catalog.get(id);
  if (!found) throw new Error(`no catalogue entry ${id}`);
  return found;
};
const build = (id: string, inputs: NativeInputs) =>
  BODY_BUILDERS[entry(id).transport].build(entry(id), inputs);

const pixels = (width: number, height: number): NativeSize => ({ kind: 'pixels', width, height });
const ratio = (r: string, width: number, height: number, resolution?: string): NativeSize => ({
  kind: 'ratio',
  ratio: r,
  width,
  height,
  ...(resolution !== undefined && { resolution }),
});
const base = { prompt: 'a ribeye steak on slate', count: 1, format: 'png' } as const;

describe('OpenAI images', () => {
  it('GPT image models: model, n, WxH size, quality tier, output_format, background', () => {
    const body = build('openai/gpt-image-1.5', {
      ...base,
      size: pixels(1536, 1024),
      tier: 'high',
      count: 4,
      format: 'webp',
      background: 'transparent',
    });
    expect(body).toEqual({
      model: 'gpt-image-1.5',
      prompt: 'a ribeye steak on slate',
      n: 4,
      size: '1536x1024',
      quality: 'high',
      output_format: 'webp',
      background: 'transparent',
    });
  });

  it('DALL·E 3: style, base64 responses, no GPT-only fields', () => {
    const body = build('openai/dall-e-3', {
      ...base,
      size: pixels(1792, 1024),
      tier: 'hd',
      style: 'natural',
    });
    expect(body.model).toBe('dall-e-3');
    expect(body.style).toBe('natural');
    expect(body.quality).toBe('hd');
    expect(body.response_format).toBe('b64_json');
    expect(body).not.toHaveProperty('output_format');
    expect(body).not.toHaveProperty('background');
  });
});

describe('Stability', () => {
  it('v2beta sd3: form fields with model and cfg_scale', () => {
    const body = build('stability/sd3.5-large', {
      ...base,
      negativePrompt: 'blurry',
      size: ratio('16:9', 1344, 768),
      seed: 42,
      style: 'photographic',
      cfg: 5.5,
      format: 'jpeg',
    });
    expect(body).toEqual({
      prompt: 'a ribeye steak on slate',
      negative_prompt: 'blurry',
      aspect_ratio: '16:9',
      seed: 42,
      style_preset: 'photographic',
      output_format: 'jpeg',
      model: 'sd3.5-large',
      cfg_scale: 5.5,
    });
  });

  it('v2beta core/ultra: no model or cfg_scale fields', () => {
    const body = build('stability/stable-image-ultra', { ...base, size: ratio('1:1', 1024, 1024), cfg: 9 });
    expect(body).toEqual({ prompt: 'a ribeye steak on slate', aspect_ratio: '1:1', output_format: 'png' });
  });

  it('v2beta refuses a pixel size (a translation bug, reported as internal)', () => {
    expect(() => build('stability/stable-image-core', { ...base, size: pixels(1000, 1000) })).toThrow(
      /aspect-ratio/,
    );
  });

  it('v1 SDXL: text_prompts with a negative weight, samples, steps', () => {
    const body = build('stability/stable-diffusion-xl-1024-v1-0', {
      ...base,
      negativePrompt: 'plastic',
      size: pixels(1216, 832),
      cfg: 7,
      steps: 30,
      seed: 0,
      count: 3,
      style: 'cinematic',
    });
    expect(body).toEqual({
      text_prompts: [
        { text: 'a ribeye steak on slate', weight: 1 },
        { text: 'plastic', weight: -1 },
      ],
      width: 1216,
      height: 832,
      cfg_scale: 7,
      steps: 30,
      samples: 3,
      seed: 0,
      style_preset: 'cinematic',
    });
  });
});

describe('Replicate', () => {
  it('official FLUX dev: { input } with aspect_ratio, guidance, num_outputs, jpg spelling', () => {
    const body = build('replicate/black-forest-labs/flux-dev', {
      ...base,
      size: ratio('3:2', 1216, 832),
      cfg: 3.5,
      steps: 28,
      seed: 7,
      count: 2,
      format: 'jpeg',
    });
    expect(body).toEqual({
      input: {
        prompt: 'a ribeye steak on slate',
        aspect_ratio: '3:2',
        num_outputs: 2,
        num_inference_steps: 28,
        guidance: 3.5,
        seed: 7,
        output_format: 'jpg',
      },
    });
  });

  it('FLUX 1.1 pro: custom aspect ratio with pixels, no num_outputs', () => {
    const { input } = build('replicate/black-forest-labs/flux-1.1-pro', {
      ...base,
      size: pixels(1440, 800),
    }) as {
      input: Record<string, unknown>;
    };
    expect(input.aspect_ratio).toBe('custom');
    expect(input.width).toBe(1440);
    expect(input.height).toBe(800);
    expect(input).not.toHaveProperty('num_outputs');
  });

  it('community SDXL: version from providerModelId, width/height, guidance_scale, negative prompt', () => {
    const body = build('replicate/stability-ai/sdxl', {
      ...base,
      negativePrompt: 'text',
      size: pixels(1024, 1024),
      cfg: 7.5,
      steps: 40,
      seed: 3,
    });
    expect(body.version).toBe(entry('replicate/stability-ai/sdxl').providerModelId.split(':')[1]);
    expect(body.input).toEqual({
      prompt: 'a ribeye steak on slate',
      negative_prompt: 'text',
      width: 1024,
      height: 1024,
      num_outputs: 1,
      num_inference_steps: 40,
      guidance_scale: 7.5,
      seed: 3,
    });
  });
});

describe('fal', () => {
  it('preset image_size, num_images, guidance_scale, steps, safety checker on', () => {
    const body = build('fal/fal-ai/flux/dev', {
      ...base,
      size: { kind: 'preset', preset: 'landscape_16_9', width: 1024, height: 576 },
      cfg: 3.5,
      steps: 28,
      seed: 11,
      count: 4,
      format: 'jpeg',
    });
    expect(body).toEqual({
      prompt: 'a ribeye steak on slate',
      image_size: 'landscape_16_9',
      num_images: 4,
      guidance_scale: 3.5,
      num_inference_steps: 28,
      seed: 11,
      output_format: 'jpeg',
      enable_safety_checker: true,
    });
  });

  it('custom pixels become { width, height }; pro has no steps or guidance', () => {
    const body = build('fal/fal-ai/flux-pro/v1.1', { ...base, size: pixels(1200, 800), cfg: 4, steps: 20 });
    expect(body.image_size).toEqual({ width: 1200, height: 800 });
    expect(body).not.toHaveProperty('guidance_scale');
    expect(body).not.toHaveProperty('num_inference_steps');
  });
});

describe('Black Forest Labs', () => {
  it('flux-dev: width, height, steps, guidance, seed, output_format', () => {
    const body = build('bfl/flux-dev', { ...base, size: pixels(1024, 768), steps: 28, cfg: 3, seed: 9 });
    expect(body).toEqual({
      prompt: 'a ribeye steak on slate',
      width: 1024,
      height: 768,
      seed: 9,
      steps: 28,
      guidance: 3,
      output_format: 'png',
    });
  });
});

describe('Google', () => {
  it('Gemini generateContent: contents, responseModalities, imageConfig', () => {
    const body = build('google/gemini-2.5-flash-image', {
      ...base,
      size: ratio('21:9', 1536, 672, '2K'),
    });
    expect(body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'a ribeye steak on slate' }] }],
      generationConfig: {
        responseModalities: ['TEXT', 'IMAGE'],
        imageConfig: { aspectRatio: '21:9', imageSize: '2K' },
      },
    });
  });

  it('Vertex Imagen 4: instances/parameters, no negativePrompt field; a seed turns the watermark off', () => {
    const body = build('vertex/imagen-4.0-generate-001', {
      ...base,
      size: ratio('9:16', 768, 1408),
      // Imagen 4 on Vertex takes no negativePrompt: even if one reached the builder, it is not sent.
      negativePrompt: 'people',
      seed: 1234,
      count: 3,
      format: 'jpeg',
    });
    expect(body).toEqual({
      instances: [{ prompt: 'a ribeye steak on slate' }],
      parameters: {
        sampleCount: 3,
        aspectRatio: '9:16',
        seed: 1234,
        addWatermark: false,
        outputOptions: { mimeType: 'image/jpeg' },
      },
    });
    const noSeed = build('vertex/imagen-4.0-fast-generate-001', { ...base, size: ratio('1:1', 1024, 1024) });
    expect(noSeed.parameters).not.toHaveProperty('addWatermark');
    expect(noSeed.parameters).not.toHaveProperty('seed');
  });
});

describe('Bedrock', () => {
  it('Titan: TEXT_IMAGE with negativeText and imageGenerationConfig, no style', () => {
    const body = build('bedrock/amazon.titan-image-generator-v2:0', {
      ...base,
      negativePrompt: 'bones',
      size: pixels(1152, 768),
      tier: 'premium',
      cfg: 8,
      seed: 42,
      count: 5,
      style: 'PHOTOREALISM',
    });
    expect(body).toEqual({
      taskType: 'TEXT_IMAGE',
      textToImageParams: { text: 'a ribeye steak on slate', negativeText: 'bones' },
      imageGenerationConfig: {
        numberOfImages: 5,
        quality: 'premium',
        cfgScale: 8,
        width: 1152,
        height: 768,
        seed: 42,
      },
    });
  });

  it('Nova Canvas: style in textToImageParams', () => {
    const body = build('bedrock/amazon.nova-canvas-v1:0', {
      ...base,
      size: pixels(1280, 720),
      style: 'FLAT_VECTOR_ILLUSTRATION',
    });
    expect(body.textToImageParams).toEqual({
      text: 'a ribeye steak on slate',
      style: 'FLAT_VECTOR_ILLUSTRATION',
    });
    expect(body.imageGenerationConfig).toEqual({ numberOfImages: 1, width: 1280, height: 720 });
  });

  it('Stability on Bedrock: JSON with mode text-to-image', () => {
    const body = build('bedrock/stability.sd3-5-large-v1:0', {
      ...base,
      size: ratio('5:4', 1088, 896),
      negativePrompt: 'fork',
      seed: 5,
      format: 'jpeg',
    });
    expect(body).toEqual({
      prompt: 'a ribeye steak on slate',
      aspect_ratio: '5:4',
      mode: 'text-to-image',
      seed: 5,
      negative_prompt: 'fork',
      output_format: 'jpeg',
    });
  });
});

describe('self-hosted', () => {
  const a1111 = entry('a1111/sdxl');

  it('A1111 txt2img: batch_size, n_iter 1, no checkpoint override for `default`', () => {
    const body = BODY_BUILDERS.a1111.build(a1111, {
      ...base,
      negativePrompt: 'blur',
      size: pixels(1024, 768),
      cfg: 7,
      steps: 30,
      seed: 0,
      count: 2,
    });
    expect(body).toEqual({
      prompt: 'a ribeye steak on slate',
      negative_prompt: 'blur',
      width: 1024,
      height: 768,
      cfg_scale: 7,
      steps: 30,
      seed: 0,
      batch_size: 2,
      n_iter: 1,
    });
  });

  it('A1111: a named checkpoint goes to override_settings, a LoRA into the prompt', () => {
    const deployed = { ...a1111, providerModelId: 'juggernautXL_v9.safetensors' };
    const body = BODY_BUILDERS.a1111.build(deployed, {
      ...base,
      size: pixels(1024, 1024),
      seed: 5,
      lora: { name: 'ribeye-v1', strength: 0.8 },
    });
    expect(body.override_settings).toEqual({ sd_model_checkpoint: 'juggernautXL_v9.safetensors' });
    expect(body.prompt).toBe('a ribeye steak on slate <lora:ribeye-v1:0.8>');
  });

  it('ComfyUI: the template graph filled with prompt, seed, steps, cfg, size, batch and checkpoint', () => {
    const body = build('comfyui/sdxl', {
      ...base,
      negativePrompt: 'watermark',
      size: pixels(832, 1216),
      cfg: 6,
      steps: 25,
      seed: 4294967295,
      count: 3,
    });
    const graph = body.prompt as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
    const byClass = (c: string) => Object.values(graph).filter((n) => n.class_type === c);
    expect(byClass('CheckpointLoaderSimple')[0]!.inputs.ckpt_name).toBe('sd_xl_base_1.0.safetensors');
    expect(byClass('EmptyLatentImage')[0]!.inputs).toEqual({ width: 832, height: 1216, batch_size: 3 });
    const sampler = byClass('KSampler')[0]!.inputs;
    expect([sampler.seed, sampler.steps, sampler.cfg]).toEqual([4294967295, 25, 6]);
    const positive = graph[(sampler.positive as [string, number])[0]]!;
    const negative = graph[(sampler.negative as [string, number])[0]]!;
    expect(positive.inputs.text).toBe('a ribeye steak on slate');
    expect(negative.inputs.text).toBe('watermark');
    expect(JSON.stringify(graph)).not.toContain('{{');
  });
});

describe('pixel/sketch (local)', () => {
  it('camelCase body with seed, n, format and background', () => {
    const body = build('pixel/sketch', {
      ...base,
      negativePrompt: 'fork',
      size: pixels(333, 777),
      seed: 0,
      style: 'studio-product',
      count: 16,
      format: 'webp',
      background: 'transparent',
    });
    expect(body).toEqual({
      prompt: 'a ribeye steak on slate',
      negativePrompt: 'fork',
      width: 333,
      height: 777,
      seed: 0,
      style: 'studio-product',
      n: 16,
      format: 'webp',
      background: 'transparent',
    });
    expect(build('pixel/sketch', { ...base, size: pixels(64, 64), seed: 1 }).background).toBe('opaque');
    expect(() => build('pixel/sketch', { ...base, size: pixels(64, 64) })).toThrow(/needs a seed/);
  });
});

describe('every builder', () => {
  /** The default size of an entry, solved the way translation would for no size request. */
  const defaultSize = (e: ModelEntry): NativeSize => {
    const s = e.sizes;
    if (s.kind === 'list') return pixels(s.default.width, s.default.height);
    if (s.kind === 'ratios') {
      const r = s.ratios.find((x) => x.ratio === s.default)!;
      return ratio(r.ratio, r.width, r.height);
    }
    return pixels(s.default.width, s.default.height);
  };

  it('exists for every transport, with disjoint managed and pass-through fields', () => {
    for (const transport of TRANSPORTS) {
      const builder = BODY_BUILDERS[transport];
      expect(builder, transport).toBeDefined();
      for (const field of Object.keys(builder.passthroughFields))
        expect(builder.managedFields).not.toContain(field);
    }
  });

  it('builds every catalogue entry at its defaults, emitting only fields it declares', () => {
    const nested: Record<string, string> = {
      replicate: 'input',
      'vertex-imagen': 'parameters',
      'bedrock-titan': 'imageGenerationConfig',
      'bedrock-nova': 'imageGenerationConfig',
      gemini: 'generationConfig',
    };
    for (const e of catalog.list()) {
      const inputs: NativeInputs = {
        ...base,
        size: defaultSize(e),
        format: e.defaultFormat,
        ...(e.cfg && { cfg: e.cfg.default }),
        ...(e.steps?.kind === 'range' && { steps: e.steps.default }),
        ...(e.steps?.kind === 'tiers' && { tier: e.steps.default }),
        ...(e.seed && { seed: e.seed.max }),
        ...(e.negativePrompt && { negativePrompt: 'blurry' }),
      };
      const builder = BODY_BUILDERS[e.transport];
      const body = builder.build(e, inputs);
      const where = nested[e.transport];
      const fields = Object.keys(where ? (body[where] as Record<string, unknown>) : body);
      const declared = new Set([...builder.managedFields, ...Object.keys(builder.passthroughFields)]);
      for (const field of fields) expect(declared.has(field), `${e.id}: ${field}`).toBe(true);
      if (e.cfg && e.transport !== 'comfyui')
        expect(JSON.stringify(body), e.id).toContain(`"${e.cfg.param}":`);
      if (e.seed) expect(JSON.stringify(body), e.id).toContain(String(e.seed.max));
    }
  });
});
