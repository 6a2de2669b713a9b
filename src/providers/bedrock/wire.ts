import { z } from 'zod';

/**
 * Amazon Bedrock InvokeModel bodies for the image models. Bedrock checks
 * each model's JSON schema and rejects extraneous keys, so the request schemas are strict.
 */

export const TITAN_SIZES: ReadonlyArray<readonly [number, number]> = [
  [1024, 1024],
  [768, 768],
  [512, 512],
  [768, 1152],
  [384, 576],
  [1152, 768],
  [576, 384],
  [768, 1280],
  [384, 640],
  [1280, 768],
  [640, 384],
  [896, 1152],
  [448, 576],
  [1152, 896],
  [576, 448],
  [768, 1408],
  [384, 704],
  [1408, 768],
  [704, 384],
  [640, 1408],
  [320, 704],
  [1408, 640],
  [704, 320],
  [1152, 640],
  [1173, 640],
];

export const NOVA_STYLES = [
  '3D_ANIMATED_FAMILY_FILM',
  'DESIGN_SKETCH',
  'FLAT_VECTOR_ILLUSTRATION',
  'GRAPHIC_NOVEL_ILLUSTRATION',
  'MAXIMALISM',
  'MIDCENTURY_RETRO',
  'PHOTOREALISM',
  'SOFT_DIGITAL_PAINTING',
] as const;

export const TASK_TYPES = [
  'TEXT_IMAGE',
  'INPAINTING',
  'OUTPAINTING',
  'IMAGE_VARIATION',
  'COLOR_GUIDED_GENERATION',
  'BACKGROUND_REMOVAL',
  'VIRTUAL_TRY_ON',
] as const;

/** Titan takes seeds up to 2,147,483,646; Nova Canvas only up to 858,993,459 (AWS's request references). */
const imageGenerationConfig = (defaults: { cfg: number; seed: number; maxSeed: number }) =>
  z
    .object({
      numberOfImages: z.number().int().min(1).max(5).default(1),
      quality: z.enum(['standard', 'premium']).default('standard'),
      cfgScale: z.number().min(1.1).max(10).default(defaults.cfg),
      width: z.number().int().optional(),
      height: z.number().int().optional(),
      seed: z.number().int().min(0).max(defaults.maxSeed).default(defaults.seed),
    })
    .strict();

/** Parameters of the task types Pixel does not send; kept loose so the fake can still accept them. */
const otherTaskParams = {
  inPaintingParams: z.record(z.string(), z.unknown()).optional(),
  outPaintingParams: z.record(z.string(), z.unknown()).optional(),
  imageVariationParams: z.record(z.string(), z.unknown()).optional(),
  colorGuidedGenerationParams: z.record(z.string(), z.unknown()).optional(),
  backgroundRemovalParams: z.record(z.string(), z.unknown()).optional(),
};

const control = {
  conditionImage: z.string().optional(),
  controlMode: z.enum(['CANNY_EDGE', 'SEGMENTATION']).optional(),
  controlStrength: z.number().min(0).max(1).optional(),
};

export const TitanRequestSchema = z
  .object({
    taskType: z.enum(TASK_TYPES),
    textToImageParams: z
      .object({
        text: z.string().min(1).max(512),
        negativeText: z.string().min(1).max(512).optional(),
        ...control,
      })
      .strict()
      .optional(),
    imageGenerationConfig: imageGenerationConfig({ cfg: 8, seed: 42, maxSeed: 2_147_483_646 }).optional(),
    ...otherTaskParams,
  })
  .strict();
export type TitanRequest = z.infer<typeof TitanRequestSchema>;

export const NovaRequestSchema = z
  .object({
    taskType: z.enum(TASK_TYPES),
    textToImageParams: z
      .object({
        text: z.string().min(1).max(1024),
        negativeText: z.string().min(1).max(1024).optional(),
        style: z.enum(NOVA_STYLES).optional(),
        ...control,
      })
      .strict()
      .optional(),
    imageGenerationConfig: imageGenerationConfig({ cfg: 6.5, seed: 12, maxSeed: 858_993_459 }).optional(),
    ...otherTaskParams,
    virtualTryOnParams: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type NovaRequest = z.infer<typeof NovaRequestSchema>;

export const STABILITY_ASPECT_RATIOS = [
  '16:9',
  '1:1',
  '21:9',
  '2:3',
  '3:2',
  '4:5',
  '5:4',
  '9:16',
  '9:21',
] as const;

export const BedrockStabilityRequestSchema = z
  .object({
    prompt: z.string().max(10_000),
    aspect_ratio: z.enum(STABILITY_ASPECT_RATIOS).default('1:1'),
    mode: z.enum(['text-to-image', 'image-to-image']).optional(),
    seed: z.number().int().min(0).max(4_294_967_294).optional(),
    negative_prompt: z.string().max(10_000).optional(),
    output_format: z.enum(['jpeg', 'png']).default('png'),
    image: z.string().optional(),
    strength: z.number().min(0).max(1).optional(),
  })
  .strict();
export type BedrockStabilityRequest = z.infer<typeof BedrockStabilityRequestSchema>;

/** Titan and Nova answer `{ images, error }` (Nova may add `maskImage`). */
export const TitanNovaResponseSchema = z.object({
  images: z.array(z.string()),
  error: z.string().nullish(),
  maskImage: z.string().nullish(),
});

export const BedrockStabilityResponseSchema = z.object({
  seeds: z.array(z.number()).optional(),
  finish_reasons: z.array(z.string().nullable()),
  images: z.array(z.string()),
});

/** Error body: `{ message }` (some services spell it `Message`); the type is in `x-amzn-ErrorType`. */
export const BedrockErrorSchema = z.object({
  message: z.string().optional(),
  Message: z.string().optional(),
});

/** Which body shape a Bedrock model id speaks. */
export type BedrockFamily = 'titan' | 'nova' | 'stability';

export function familyOf(modelId: string, transport?: string): BedrockFamily {
  if (transport === 'bedrock-titan') return 'titan';
  if (transport === 'bedrock-nova') return 'nova';
  if (transport === 'bedrock-stability') return 'stability';
  // Cross-region inference profiles prefix the id with a geography (`us.amazon.nova-canvas-v1:0`).
  const id = modelId.replace(/^(us|eu|apac|global)\./, '');
  if (id.startsWith('stability.')) return 'stability';
  if (id.startsWith('amazon.nova')) return 'nova';
  return 'titan';
}

/** Bedrock's Responsible-AI refusals, whether they arrive as a 400 message or in the `error` field. */
export const RAI_PATTERN = /content filters|responsible ai|\bRAI\b|blocked by our|content policy/i;
