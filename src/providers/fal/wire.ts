import { z } from 'zod';

/**
 * fal.ai wire formats. fal apps are Pydantic models that ignore fields
 * they do not declare, so the input schemas are not strict (unknown fields are dropped, not rejected);
 * known fields are range-checked and answered with FastAPI 422 details, as fal does.
 */

export const IMAGE_SIZE_PRESETS = {
  square_hd: [1024, 1024],
  square: [512, 512],
  portrait_4_3: [768, 1024],
  portrait_16_9: [576, 1024],
  landscape_4_3: [1024, 768],
  landscape_16_9: [1024, 576],
} as const satisfies Record<string, readonly [number, number]>;
export type ImageSizePreset = keyof typeof IMAGE_SIZE_PRESETS;

const imageSize = z.union([
  z.enum(Object.keys(IMAGE_SIZE_PRESETS) as [ImageSizePreset, ...ImageSizePreset[]]),
  z.object({
    width: z.number().int().min(1).max(14142).default(512),
    height: z.number().int().min(1).max(14142).default(512),
  }),
]);

const common = {
  prompt: z.string().min(1),
  image_size: imageSize.optional(),
  num_images: z.number().int().min(1).max(4).optional(),
  seed: z.number().int().optional(),
  enable_safety_checker: z.boolean().optional(),
  output_format: z.enum(['jpeg', 'png']).optional(),
  sync_mode: z.boolean().optional(),
};

export const FluxDevInputSchema = z.object({
  ...common,
  num_inference_steps: z.number().int().min(1).max(50).optional(),
  guidance_scale: z.number().min(1).max(20).optional(),
  acceleration: z.enum(['none', 'regular', 'high']).optional(),
});

export const FluxSchnellInputSchema = z.object({
  ...common,
  num_inference_steps: z.number().int().min(1).max(12).optional(),
  guidance_scale: z.number().min(1).max(20).optional(),
  acceleration: z.enum(['none', 'regular', 'high']).optional(),
});

export const FluxProInputSchema = z.object({
  ...common,
  safety_tolerance: z.enum(['1', '2', '3', '4', '5', '6']).optional(),
  enhance_prompt: z.boolean().optional(),
});

/** A LoRA a LoRA endpoint applies: a URL (or Hugging Face repo) of safetensors weights, and its scale. */
const loraWeight = z.object({ path: z.string().min(1), scale: z.number().min(-4).max(4).optional() });

/** `fal-ai/flux-lora`: FLUX.1 [dev] with LoRAs (guidance 0–35, any number of LoRAs merged). */
export const FluxLoraInputSchema = z.object({
  ...common,
  num_inference_steps: z.number().int().min(1).max(50).optional(),
  guidance_scale: z.number().min(0).max(35).optional(),
  loras: z.array(loraWeight).optional(),
  acceleration: z.enum(['none', 'regular']).optional(),
});

/** FLUX.2 [dev] sides are 512–2048. */
const flux2Size = z.union([
  z.enum(Object.keys(IMAGE_SIZE_PRESETS) as [ImageSizePreset, ...ImageSizePreset[]]),
  z.object({ width: z.number().int().min(512).max(2048), height: z.number().int().min(512).max(2048) }),
]);

/** `fal-ai/flux-2`: FLUX.2 [dev] (steps 4–50, guidance 0–20). */
export const Flux2InputSchema = z.object({
  ...common,
  image_size: flux2Size.optional(),
  output_format: z.enum(['jpeg', 'png', 'webp']).optional(),
  num_inference_steps: z.number().int().min(4).max(50).optional(),
  guidance_scale: z.number().min(0).max(20).optional(),
  acceleration: z.enum(['none', 'regular', 'high']).optional(),
  enable_prompt_expansion: z.boolean().optional(),
});

/** `fal-ai/flux-2/lora`: FLUX.2 [dev] with at most 3 LoRAs. */
export const Flux2LoraInputSchema = Flux2InputSchema.extend({
  loras: z.array(loraWeight).max(3).optional(),
});

export const FAL_INPUT_SCHEMAS: Record<string, z.ZodType<Record<string, unknown>>> = {
  'fal-ai/flux/dev': FluxDevInputSchema,
  'fal-ai/flux/schnell': FluxSchnellInputSchema,
  'fal-ai/flux-pro/v1.1': FluxProInputSchema,
  'fal-ai/flux-lora': FluxLoraInputSchema,
  'fal-ai/flux-2': Flux2InputSchema,
  'fal-ai/flux-2/lora': Flux2LoraInputSchema,
};

export const QueueSubmitSchema = z.object({
  request_id: z.string().min(1),
  response_url: z.url(),
  status_url: z.url(),
  cancel_url: z.url(),
  queue_position: z.number().int().nullish(),
});

export const QUEUE_STATUSES = ['IN_QUEUE', 'IN_PROGRESS', 'COMPLETED'] as const;

export const QueueStatusSchema = z.object({
  status: z.enum(QUEUE_STATUSES),
  queue_position: z.number().int().nullish(),
  response_url: z.url().nullish(),
  logs: z.array(z.unknown()).nullish(),
});

export const CANCEL_STATUSES = ['OK', 'CANCELLATION_REQUESTED', 'ALREADY_COMPLETED', 'NOT_FOUND'] as const;

export const FalImageSchema = z.object({
  url: z.string().min(1),
  width: z.number().int().nullish(),
  height: z.number().int().nullish(),
  content_type: z.string().nullish(),
  file_name: z.string().nullish(),
  file_size: z.number().nullish(),
});

export const FalOutputSchema = z.object({
  images: z.array(FalImageSchema),
  seed: z.number().int().nullish(),
  prompt: z.string().nullish(),
  has_nsfw_concepts: z.array(z.boolean()).nullish(),
  timings: z.record(z.string(), z.number()).nullish(),
});
export type FalOutput = z.infer<typeof FalOutputSchema>;

/** fal's non-FastAPI error body (FastAPI `detail` bodies are read by shared/fastapi.ts). */
export const FalMessageErrorSchema = z.object({ message: z.string() });
