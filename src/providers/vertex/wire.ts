import { z } from 'zod';

/**
 * Imagen on Vertex AI `…/publishers/google/models/{model}:predict`.
 * The top level is a PredictRequest proto, so unknown top-level keys are rejected; `parameters` is
 * a free Struct the model reads, so its unknown keys pass but known ones are range-checked.
 */

export const IMAGEN_ASPECT_RATIOS = ['1:1', '3:4', '4:3', '9:16', '16:9'] as const;

/** Pixels per aspect ratio at the default 1K sample size (2K doubles them). */
export const IMAGEN_RATIO_PIXELS: Record<(typeof IMAGEN_ASPECT_RATIOS)[number], [number, number]> = {
  '1:1': [1024, 1024],
  '3:4': [896, 1280],
  '4:3': [1280, 896],
  '9:16': [768, 1408],
  '16:9': [1408, 768],
};

export const ImagenParametersSchema = z.looseObject({
  sampleCount: z.number().int().min(1).max(4).optional(),
  aspectRatio: z.enum(IMAGEN_ASPECT_RATIOS).optional(),
  negativePrompt: z.string().optional(),
  seed: z.number().int().min(1).max(4_294_967_295).optional(),
  addWatermark: z.boolean().optional(),
  enhancePrompt: z.boolean().optional(),
  guidanceScale: z.number().optional(),
  personGeneration: z.enum(['dont_allow', 'allow_adult', 'allow_all']).optional(),
  safetySetting: z
    .enum(['block_low_and_above', 'block_medium_and_above', 'block_only_high', 'block_none'])
    .optional(),
  includeRaiReason: z.boolean().optional(),
  includeSafetyAttributes: z.boolean().optional(),
  language: z.string().optional(),
  outputOptions: z
    .object({
      mimeType: z.enum(['image/png', 'image/jpeg']).optional(),
      compressionQuality: z.number().int().min(0).max(100).optional(),
    })
    .strict()
    .optional(),
  sampleImageSize: z.enum(['1K', '2K']).optional(),
  storageUri: z.string().optional(),
});

export const ImagenPredictRequestSchema = z
  .object({
    instances: z.array(z.looseObject({ prompt: z.string().min(1) })).length(1),
    parameters: ImagenParametersSchema.optional(),
    labels: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type ImagenPredictRequest = z.infer<typeof ImagenPredictRequestSchema>;

export const ImagenPredictionSchema = z.looseObject({
  bytesBase64Encoded: z.string().optional(),
  mimeType: z.string().optional(),
  gcsUri: z.string().optional(),
  raiFilteredReason: z.string().optional(),
  safetyAttributes: z.unknown().optional(),
  prompt: z.string().optional(),
});

export const ImagenPredictResponseSchema = z.looseObject({
  predictions: z.array(ImagenPredictionSchema).optional(),
  deployedModelId: z.string().optional(),
  model: z.string().optional(),
  modelVersionId: z.string().optional(),
});
export type ImagenPredictResponse = z.infer<typeof ImagenPredictResponseSchema>;
