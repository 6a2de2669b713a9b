import { z } from 'zod';

/**
 * Replicate predictions API wire shapes. The fake validates requests with
 * these; the adapter validates responses with them.
 */

export const PREDICTION_STATUSES = [
  'starting',
  'processing',
  'succeeded',
  'failed',
  'canceled',
  'aborted',
] as const;
export type PredictionStatus = (typeof PREDICTION_STATUSES)[number];
export const TERMINAL_STATUSES: ReadonlySet<PredictionStatus> = new Set([
  'succeeded',
  'failed',
  'canceled',
  'aborted',
]);

const webhookFields = {
  webhook: z.url().optional(),
  webhook_events_filter: z.array(z.enum(['start', 'output', 'logs', 'completed'])).optional(),
};

/** `POST /models/{owner}/{name}/predictions` (official models). */
export const ModelPredictionBodySchema = z
  .object({
    input: z.record(z.string(), z.unknown()),
    ...webhookFields,
    /** Deprecated but still accepted by the API. */
    stream: z.boolean().optional(),
  })
  .strict();

/** `POST /predictions` (community models): `additionalProperties: false`, so an unknown key is a 422. */
export const VersionPredictionBodySchema = z
  .object({
    version: z.string().min(1),
    input: z.record(z.string(), z.unknown()),
    ...webhookFields,
  })
  .strict();

/** `Prefer: wait` or `Prefer: wait=n`, n 1–60. */
export const PREFER_WAIT_RE = /^wait(=([1-9]|[1-9][0-9]|60))?$/;

const aspectRatios = [
  '1:1',
  '16:9',
  '21:9',
  '3:2',
  '2:3',
  '4:5',
  '5:4',
  '3:4',
  '4:3',
  '9:16',
  '9:21',
] as const;
const outputFormat = z.enum(['webp', 'jpg', 'png']);
const seed = z.number().int();

/** Model inputs. Replicate ignores input keys a model does not declare, so these are not strict. */
export const FluxSchnellInputSchema = z.object({
  prompt: z.string().min(1),
  aspect_ratio: z.enum(aspectRatios).default('1:1'),
  num_outputs: z.number().int().min(1).max(4).default(1),
  num_inference_steps: z.number().int().min(1).max(4).default(4),
  seed: seed.optional(),
  output_format: outputFormat.default('webp'),
  output_quality: z.number().int().min(0).max(100).default(80),
  disable_safety_checker: z.boolean().default(false),
  go_fast: z.boolean().default(true),
  megapixels: z.enum(['1', '0.25']).default('1'),
});

export const FluxDevInputSchema = FluxSchnellInputSchema.extend({
  image: z.string().optional(),
  prompt_strength: z.number().min(0).max(1).default(0.8),
  num_inference_steps: z.number().int().min(1).max(50).default(50),
  guidance: z.number().min(0).max(10).default(3.5),
});

export const FluxProInputSchema = z.object({
  prompt: z.string().min(1),
  image_prompt: z.string().optional(),
  aspect_ratio: z.enum([...aspectRatios, 'custom']).default('1:1'),
  width: z.number().int().min(256).max(1440).optional(),
  height: z.number().int().min(256).max(1440).optional(),
  safety_tolerance: z.number().int().min(1).max(6).default(2),
  seed: seed.optional(),
  prompt_upsampling: z.boolean().default(false),
  output_format: outputFormat.default('webp'),
  output_quality: z.number().int().min(0).max(100).default(80),
});

export const SdxlInputSchema = z.object({
  prompt: z.string().min(1),
  negative_prompt: z.string().optional(),
  image: z.string().optional(),
  mask: z.string().optional(),
  width: z.number().int().min(64).max(2048).default(1024),
  height: z.number().int().min(64).max(2048).default(1024),
  num_outputs: z.number().int().min(1).max(4).default(1),
  scheduler: z
    .enum(['DDIM', 'DPMSolverMultistep', 'HeunDiscrete', 'KarrasDPM', 'K_EULER_ANCESTRAL', 'K_EULER', 'PNDM'])
    .default('K_EULER'),
  num_inference_steps: z.number().int().min(1).max(500).default(50),
  guidance_scale: z.number().min(1).max(50).default(7.5),
  prompt_strength: z.number().min(0).max(1).default(0.8),
  seed: seed.optional(),
  refine: z.enum(['no_refiner', 'expert_ensemble_refiner', 'base_image_refiner']).default('no_refiner'),
  high_noise_frac: z.number().min(0).max(1).default(0.8),
  refine_steps: z.number().int().optional(),
  apply_watermark: z.boolean().default(true),
});

export const PredictionSchema = z.object({
  id: z.string().min(1),
  model: z.string().optional(),
  version: z.string().nullish(),
  input: z.record(z.string(), z.unknown()).optional(),
  /** A single URL (flux-1.1-pro), a list of URLs (most models) or null until done / after data removal. */
  output: z.union([z.string(), z.array(z.string()), z.null()]).optional(),
  logs: z.string().nullish(),
  error: z.unknown().optional(),
  status: z.enum(PREDICTION_STATUSES),
  created_at: z.string().nullish(),
  started_at: z.string().nullish(),
  completed_at: z.string().nullish(),
  data_removed: z.boolean().optional(),
  metrics: z.record(z.string(), z.unknown()).nullish(),
  urls: z.object({
    get: z.string().min(1),
    cancel: z.string().min(1),
    stream: z.string().optional(),
    web: z.string().optional(),
  }),
});
export type Prediction = z.infer<typeof PredictionSchema>;

/** Problem-details error body (401, 404, 422, 429, 5xx). */
export const ProblemSchema = z.object({
  title: z.string().optional(),
  detail: z.string().optional(),
  status: z.number().optional(),
  invalid_fields: z
    .array(z.object({ type: z.string().optional(), field: z.string().optional(), description: z.string() }))
    .optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;
