import { z } from 'zod';

/**
 * fal's LoRA trainers as Pixel uses them (their input and output schemas, late 2026). Both run on fal's
 * queue like any other app; their result is a safetensors LoRA on fal's CDN, run through the matching LoRA
 * endpoint with `loras: [{ path, scale }]`. fal's storage hands out the dataset zip's URL
 * (`POST {rest}/storage/upload/initiate` → `{ upload_url, file_url }`, then `PUT upload_url`).
 */

/** `fal-ai/flux-lora-fast-training` (FLUX.1 [dev]): captions from `.txt` files, else the trigger word. */
export const FluxLoraFastTrainingInputSchema = z.object({
  images_data_url: z.string().min(1),
  trigger_word: z.string().optional(),
  is_style: z.boolean().optional(),
  create_masks: z.boolean().optional(),
  steps: z.number().int().min(1).max(10_000).optional(),
  data_archive_format: z.string().optional(),
});

/** `fal-ai/flux-2-trainer` (FLUX.2 [dev]), priced per step: no trigger word, a default caption instead. */
export const Flux2TrainerInputSchema = z.object({
  image_data_url: z.string().min(1),
  steps: z.number().int().min(1).max(10_000).optional(),
  learning_rate: z.number().positive().optional(),
  default_caption: z.string().optional(),
  output_lora_format: z.enum(['fal', 'comfy']).optional(),
});

const FalFileSchema = z.object({
  url: z.string().min(1),
  content_type: z.string().nullish(),
  file_name: z.string().nullish(),
  file_size: z.number().nullish(),
});

/** Both trainers answer with the LoRA file and the training's config file. */
export const FalTrainingOutputSchema = z.object({
  diffusers_lora_file: FalFileSchema,
  config_file: FalFileSchema.nullish(),
  debug_preprocessed_output: FalFileSchema.nullish(),
});

export const FalUploadInitiateSchema = z.object({ upload_url: z.url(), file_url: z.url() });

/** One log line of a queue status asked with `?logs=1`. */
export const FalLogSchema = z.object({
  message: z.string(),
  level: z.string().optional(),
  source: z.string().optional(),
  timestamp: z.string().optional(),
});

export const FAL_TRAINER_INPUT_SCHEMAS: Record<string, z.ZodType<Record<string, unknown>>> = {
  'fal-ai/flux-lora-fast-training': FluxLoraFastTrainingInputSchema,
  'fal-ai/flux-2-trainer': Flux2TrainerInputSchema,
};
