import { z } from 'zod';

/**
 * Black Forest Labs wire formats. The request models are strict: the
 * fake answers 422 `extra_forbidden` to unknown fields, the way a FastAPI model that forbids extras
 * does (real BFL behaviour for extras: not verified; strict catches translation mistakes early).
 */

const side32 = z.number().int().min(256).max(1440).multipleOf(32);
const ratio = z.string().regex(/^\d+:\d+$/);
const webhook = {
  webhook_url: z.url().max(2083).optional(),
  webhook_secret: z.string().optional(),
};
const common = {
  prompt: z.string().min(1),
  seed: z.number().int().optional(),
  safety_tolerance: z.number().int().min(0).max(6).optional(),
  output_format: z.enum(['jpeg', 'png']).optional(),
  prompt_upsampling: z.boolean().optional(),
  ...webhook,
};

export const FluxPro11Schema = z
  .object({
    ...common,
    image_prompt: z.string().optional(),
    width: side32.optional(),
    height: side32.optional(),
  })
  .strict();

export const FluxDevSchema = z
  .object({
    ...common,
    image_prompt: z.string().optional(),
    width: side32.optional(),
    height: side32.optional(),
    steps: z.number().int().min(1).max(50).optional(),
    guidance: z.number().min(1.5).max(5).optional(),
  })
  .strict();

export const FluxProSchema = z
  .object({
    ...common,
    image_prompt: z.string().optional(),
    width: side32.optional(),
    height: side32.optional(),
    steps: z.number().int().min(1).max(50).optional(),
    guidance: z.number().min(1.5).max(5).optional(),
    interval: z.number().min(1).max(4).optional(),
  })
  .strict();

export const FluxUltraSchema = z
  .object({
    ...common,
    image_prompt: z.string().optional(),
    image_prompt_strength: z.number().min(0).max(1).optional(),
    aspect_ratio: ratio.optional(),
    raw: z.boolean().optional(),
  })
  .strict();

const inputImages = Object.fromEntries(
  ['input_image', 'input_image_2', 'input_image_3', 'input_image_4'].map((k) => [k, z.string().optional()]),
) as Record<'input_image' | 'input_image_2' | 'input_image_3' | 'input_image_4', z.ZodOptional<z.ZodString>>;

export const FluxKontextSchema = z
  .object({ ...common, ...inputImages, aspect_ratio: ratio.optional() })
  .strict();

const side16 = z.number().int().min(64).multipleOf(16);
const flux2Images = Object.fromEntries(
  ['input_image', ...[2, 3, 4, 5, 6, 7, 8].map((i) => `input_image_${i}`)].map((k) => [
    k,
    z.string().optional(),
  ]),
);
export const Flux2Schema = z
  .object({ ...common, ...flux2Images, width: side16.optional(), height: side16.optional() })
  .strict()
  .refine((b) => (b.width ?? 1024) * (b.height ?? 1024) <= 4_194_304, {
    message: 'width × height must be at most 4 megapixels',
    path: ['width'],
  });

export const Flux2FlexSchema = z
  .object({
    ...common,
    ...flux2Images,
    width: side16.optional(),
    height: side16.optional(),
    steps: z.number().int().min(1).max(50).optional(),
    guidance: z.number().min(1.5).max(10).optional(),
  })
  .strict();

/** Request body schema per endpoint (`POST /v1/{model}`). */
export const BFL_REQUEST_SCHEMAS: Record<string, z.ZodType<Record<string, unknown>>> = {
  'flux-pro-1.1': FluxPro11Schema,
  'flux-dev': FluxDevSchema,
  'flux-pro': FluxProSchema,
  'flux-pro-1.1-ultra': FluxUltraSchema,
  'flux-kontext-pro': FluxKontextSchema,
  'flux-kontext-max': FluxKontextSchema,
  'flux-2-pro': Flux2Schema,
  'flux-2-max': Flux2Schema,
  'flux-2-klein-4b': Flux2Schema,
  'flux-2-klein-9b': Flux2Schema,
  'flux-2-flex': Flux2FlexSchema,
};

export const SubmitResponseSchema = z.object({
  id: z.string().min(1),
  polling_url: z.url(),
  cost: z.number().nullish(),
  input_mp: z.number().nullish(),
  output_mp: z.number().nullish(),
});

export const BFL_STATUSES = [
  'Task not found',
  'Pending',
  'Request Moderated',
  'Content Moderated',
  'Ready',
  'Error',
] as const;
export type BflStatus = (typeof BFL_STATUSES)[number];

export const PollResponseSchema = z.object({
  id: z.string().optional(),
  status: z.enum(BFL_STATUSES),
  result: z.unknown().optional(),
  progress: z.number().min(0).max(1).nullish(),
  details: z.unknown().optional(),
  preview: z.unknown().optional(),
});

export const ReadyResultSchema = z.object({
  sample: z.url(),
  prompt: z.string().optional(),
  seed: z.number().int().optional(),
  start_time: z.number().optional(),
  end_time: z.number().optional(),
  duration: z.number().optional(),
});
export type ReadyResult = z.infer<typeof ReadyResultSchema>;
