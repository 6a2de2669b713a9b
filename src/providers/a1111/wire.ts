import { z } from 'zod';

/**
 * AUTOMATIC1111 / Forge WebUI `--api` wire shapes. The server's pydantic
 * models ignore unknown fields and check only types (no ranges), so the request schema is typed but
 * not strict; defaults are the server's own.
 */

export const Txt2ImgRequestSchema = z.looseObject({
  prompt: z.string().default(''),
  negative_prompt: z.string().default(''),
  styles: z.array(z.string()).default([]),
  seed: z.number().int().default(-1),
  subseed: z.number().int().default(-1),
  subseed_strength: z.number().default(0),
  sampler_name: z.string().nullish(),
  sampler_index: z.string().default('Euler'),
  scheduler: z.string().nullish(),
  batch_size: z.number().int().default(1),
  n_iter: z.number().int().default(1),
  steps: z.number().int().default(50),
  cfg_scale: z.number().default(7),
  width: z.number().int().default(512),
  height: z.number().int().default(512),
  restore_faces: z.boolean().nullish(),
  tiling: z.boolean().nullish(),
  denoising_strength: z.number().nullish(),
  override_settings: z.record(z.string(), z.unknown()).nullish(),
  override_settings_restore_afterwards: z.boolean().default(true),
  send_images: z.boolean().default(true),
  save_images: z.boolean().default(false),
  enable_hr: z.boolean().default(false),
  hr_scale: z.number().default(2),
  script_name: z.string().nullish(),
  script_args: z.array(z.unknown()).default([]),
  alwayson_scripts: z.record(z.string(), z.unknown()).default({}),
});
export type Txt2ImgRequest = z.infer<typeof Txt2ImgRequestSchema>;

export const Txt2ImgResponseSchema = z.object({
  images: z.array(z.string()),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  /** A JSON document serialised as a string. */
  info: z.string().nullish(),
});

/** The keys of `info` Pixel reads; the document carries many more. */
export const Txt2ImgInfoSchema = z.looseObject({
  seed: z.number().optional(),
  all_seeds: z.array(z.number()).optional(),
  index_of_first_image: z.number().int().nonnegative().optional(),
  sd_model_name: z.string().nullish(),
  sd_model_hash: z.string().nullish(),
  width: z.number().optional(),
  height: z.number().optional(),
  job_timestamp: z.string().optional(),
});
export type Txt2ImgInfo = z.infer<typeof Txt2ImgInfoSchema>;

export const SdModelSchema = z.looseObject({
  title: z.string(),
  model_name: z.string(),
  hash: z.string().nullish(),
  sha256: z.string().nullish(),
  filename: z.string(),
  config: z.string().nullish(),
});
export type SdModel = z.infer<typeof SdModelSchema>;
export const SdModelListSchema = z.array(SdModelSchema);

/**
 * Errors: the WebUI's own handler answers `{ error, detail, body, errors }`; FastAPI's request
 * validation answers 422 `{ detail: [{ loc, msg, type }] }`.
 */
export const A1111ErrorSchema = z.looseObject({
  error: z.string().nullish(),
  detail: z
    .union([z.string(), z.array(z.looseObject({ loc: z.array(z.unknown()).optional(), msg: z.string() }))])
    .nullish(),
  body: z.unknown().optional(),
  errors: z.string().nullish(),
});

export const A1111_SAMPLERS = [
  'DPM++ 2M',
  'DPM++ SDE',
  'DPM++ 2M SDE',
  'DPM++ 2M SDE Heun',
  'DPM++ 2S a',
  'DPM++ 3M SDE',
  'Euler a',
  'Euler',
  'LMS',
  'Heun',
  'DPM2',
  'DPM2 a',
  'DPM fast',
  'DPM adaptive',
  'Restart',
  'DDIM',
  'DDIM CFG++',
  'PLMS',
  'UniPC',
  'LCM',
  // Pre-1.9 names that fold the scheduler into the sampler, still accepted.
  'DPM++ 2M Karras',
  'DPM++ SDE Karras',
  'DPM++ 2M SDE Karras',
] as const;
