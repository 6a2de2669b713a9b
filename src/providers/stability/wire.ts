import { z } from 'zod';

/**
 * Stability AI wire formats. The v2beta request is multipart, so every
 * form value arrives as a string: numbers are coerced. Request schemas are strict because the API
 * answers 400 to parameters it does not know.
 */

export const ASPECT_RATIOS = ['16:9', '1:1', '21:9', '2:3', '3:2', '4:5', '5:4', '9:16', '9:21'] as const;

export const STYLE_PRESETS = [
  '3d-model',
  'analog-film',
  'anime',
  'cinematic',
  'comic-book',
  'digital-art',
  'enhance',
  'fantasy-art',
  'isometric',
  'line-art',
  'low-poly',
  'modeling-compound',
  'neon-punk',
  'origami',
  'photographic',
  'pixel-art',
  'tile-texture',
] as const;

export const SD3_MODELS = [
  'sd3.5-large',
  'sd3.5-large-turbo',
  'sd3.5-medium',
  'sd3-large',
  'sd3-large-turbo',
  'sd3-medium',
] as const;

export const V2BETA_ENDPOINTS = ['ultra', 'core', 'sd3'] as const;
export type V2betaEndpoint = (typeof V2BETA_ENDPOINTS)[number];

const v2common = {
  prompt: z.string().min(1).max(10_000),
  negative_prompt: z.string().max(10_000).optional(),
  aspect_ratio: z.enum(ASPECT_RATIOS).optional(),
  seed: z.coerce.number().int().min(0).max(4_294_967_294).optional(),
  style_preset: z.enum(STYLE_PRESETS).optional(),
};

export const UltraFormSchema = z
  .object({
    ...v2common,
    output_format: z.enum(['jpeg', 'png', 'webp']).optional(),
    strength: z.coerce.number().min(0).max(1).optional(),
  })
  .strict();

export const CoreFormSchema = z
  .object({ ...v2common, output_format: z.enum(['jpeg', 'png', 'webp']).optional() })
  .strict();

export const Sd3FormSchema = z
  .object({
    ...v2common,
    model: z.enum(SD3_MODELS).optional(),
    mode: z.enum(['text-to-image', 'image-to-image']).optional(),
    cfg_scale: z.coerce.number().min(1).max(10).optional(),
    output_format: z.enum(['jpeg', 'png']).optional(),
    strength: z.coerce.number().min(0).max(1).optional(),
  })
  .strict();

export const V2BETA_FORM_SCHEMAS = { ultra: UltraFormSchema, core: CoreFormSchema, sd3: Sd3FormSchema };

export const FINISH_REASONS = ['SUCCESS', 'CONTENT_FILTERED', 'ERROR'] as const;

/** `Accept: application/json` success body. */
export const V2betaJsonResponseSchema = z.object({
  image: z.string().min(1),
  finish_reason: z.enum(FINISH_REASONS),
  seed: z.number().int().nonnegative().optional(),
});

/** v2beta error body. */
export const V2betaErrorSchema = z.object({
  id: z.string().optional(),
  name: z.string(),
  errors: z.array(z.string()),
});

export const V1_SAMPLERS = [
  'DDIM',
  'DDPM',
  'K_DPMPP_2M',
  'K_DPMPP_2S_ANCESTRAL',
  'K_DPM_2',
  'K_DPM_2_ANCESTRAL',
  'K_EULER',
  'K_EULER_ANCESTRAL',
  'K_HEUN',
  'K_LMS',
] as const;

const multipleOf64 = z.number().int().min(128).multipleOf(64);

export const V1RequestSchema = z
  .object({
    text_prompts: z
      .array(z.object({ text: z.string().min(1).max(2000), weight: z.number().optional() }).strict())
      .min(1),
    height: multipleOf64.optional(),
    width: multipleOf64.optional(),
    cfg_scale: z.number().min(0).max(35).optional(),
    clip_guidance_preset: z
      .enum(['FAST_BLUE', 'FAST_GREEN', 'NONE', 'SIMPLE', 'SLOW', 'SLOWER', 'SLOWEST'])
      .optional(),
    sampler: z.enum(V1_SAMPLERS).optional(),
    samples: z.number().int().min(1).max(10).optional(),
    seed: z.number().int().min(0).max(4_294_967_295).optional(),
    steps: z.number().int().min(10).max(50).optional(),
    style_preset: z.enum(STYLE_PRESETS).optional(),
    extras: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type V1Request = z.infer<typeof V1RequestSchema>;

/** SDXL 1.0 engines accept only these sizes (400 `invalid_sdxl_v1_dimensions` otherwise). */
export const SDXL_V1_DIMENSIONS: ReadonlyArray<readonly [number, number]> = [
  [1024, 1024],
  [1152, 896],
  [1216, 832],
  [1344, 768],
  [1536, 640],
  [640, 1536],
  [768, 1344],
  [832, 1216],
  [896, 1152],
];

export const V1ResponseSchema = z.object({
  artifacts: z.array(
    z.object({
      base64: z.string().min(1),
      seed: z.number().int().nonnegative(),
      finishReason: z.enum(FINISH_REASONS),
    }),
  ),
});

/** v1 error body. */
export const V1ErrorSchema = z.object({ id: z.string().optional(), name: z.string(), message: z.string() });
