import { z } from 'zod';
import { FAMILIES } from '../models/schema.ts';
import { BACKGROUNDS, FORMATS, QUALITIES, STYLES } from '../protocol/request.ts';

/**
 * An application profile: everything a team needs to generate one kind of image well, as data.
 * Shipped defaults live in `apps/<name>.yaml`; edits become numbered versions in the catalogue DB.
 */

/** Application names: lowercase slugs, also the file name (`apps/<name>.yaml`). */
export const APP_NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Template variable names: plain identifiers, so every Mustache implementation reads them the same way. */
export const VAR_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

const varName = z.string().regex(VAR_NAME_RE, { message: 'must be an identifier (letters, digits, _)' });
const template = z.string().trim().min(1, { message: 'must not be empty' }).max(8000);
const modelId = z.string().trim().min(3).max(200);
const int = (min: number, max: number) => z.number().int().min(min).max(max);

/**
 * Default generation parameters, in unified-protocol terms (same names and ranges as
 * `GenerateRequestSchema`): the request wins over every one of them.
 */
export const AppParamsSchema = z
  .object({
    model: modelId.optional(),
    width: int(64, 8192).optional(),
    height: int(64, 8192).optional(),
    aspectRatio: z
      .string()
      .regex(/^\d{1,3}(\.\d{1,3})?:\d{1,3}(\.\d{1,3})?$/)
      .optional(),
    fit: z.enum(['exact', 'native']).optional(),
    cfgScale: z.number().min(1).max(20).optional(),
    style: z.enum(STYLES).optional(),
    quality: z.enum(QUALITIES).optional(),
    steps: int(1, 500).optional(),
    n: int(1, 16).optional(),
    format: z.enum(FORMATS).optional(),
    background: z.enum(BACKGROUNDS).optional(),
    providerOptions: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    onUnsupported: z.enum(['warn', 'error']).optional(),
  })
  .strict();
export type AppParams = z.infer<typeof AppParamsSchema>;

export const VariableSchema = z
  .object({
    description: z.string().min(1),
    example: z.string().optional(),
    /** Used when the caller does not give the variable; a variable with a default is never "missing". */
    default: z.string().optional(),
  })
  .strict();

/** A prompt style for some model families: natural sentences for gpt-image/flux, tag lists for SDXL/SD 1.5. */
export const VariantSchema = z
  .object({
    families: z.array(z.enum(FAMILIES)).min(1),
    template: template.optional(),
    negativePrompt: z.string().trim().max(4000).optional(),
    /** Parameters that suit these families better than the application defaults (e.g. steps for SDXL). */
    params: AppParamsSchema.omit({ model: true }).optional(),
  })
  .strict();
export type Variant = z.infer<typeof VariantSchema>;

export const FewShotSchema = z
  .object({
    vars: z.record(varName, z.string()),
    prompt: template,
    /** Why this prompt is good: what the prompt writer should learn from it. */
    note: z.string().optional(),
  })
  .strict();
export type FewShot = z.infer<typeof FewShotSchema>;

export const RubricQuestionSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
    /** May use `{{vars}}` ("Does the image show a {{cut}}?"). */
    question: template,
    expected: z.enum(['yes', 'no']),
    /** subject, count, composition, background, lighting, artifact, text, safety, style… (judge agreement is reported per category). */
    category: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
    critical: z.boolean(),
    /** What the prompt writer should change when the answer is wrong. */
    fixHint: z.string().min(1),
  })
  .strict();
export type RubricQuestion = z.infer<typeof RubricQuestionSchema>;

export const QualityPolicySchema = z
  .object({
    /** Share of questions (0–1) that must match, on top of every critical one. */
    threshold: z.number().min(0).max(1),
    maxRounds: int(1, 10),
    /** Most the refinement loop may spend on one item, in USD. */
    budgetUsd: z.number().nonnegative(),
    enabled: z.boolean().default(true),
    /** What the quality gate counts an `unsure` answer as: a miss, nothing (default), or nothing but flag for people. */
    unsure: z.enum(['fail', 'ignore', 'review']).optional(),
  })
  .strict();

/** A derived rendition stored next to the original (e.g. a 256 px WebP thumbnail). */
export const OutputVariantSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/),
    width: int(16, 8192).optional(),
    height: int(16, 8192).optional(),
    format: z.enum(FORMATS),
    /** sharp's resize fit: cover crops, contain pads, inside keeps the whole image within the box. */
    fit: z.enum(['cover', 'contain', 'inside']).default('cover'),
    quality: int(1, 100).optional(),
  })
  .strict()
  .refine((v) => v.width !== undefined || v.height !== undefined, { message: 'needs width or height' });

/** Product category → fine-tuned model. Data only: a route to a model not in the catalogue falls back, with a report line. */
export const FinetuneRoutingSchema = z
  .object({
    /** The item variable that carries the product category. */
    categoryVar: varName,
    routes: z.record(z.string().min(1), z.string().regex(/^ft\/[a-z0-9][a-z0-9._-]{0,62}$/)),
  })
  .strict();

export const AppProfileSchema = z
  .object({
    name: z.string().regex(APP_NAME_RE, { message: 'must be a lowercase slug (letters, digits, -)' }),
    title: z.string().min(1),
    description: z.string().min(1),
    /** The team that looks after the shipped defaults. */
    owner: z.string().optional(),
    variables: z.record(varName, VariableSchema),
    /** The base template (natural language), used for any family no variant claims. */
    template,
    negativePrompt: z.string().trim().max(4000).optional(),
    variants: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/), VariantSchema).default({}),
    defaults: AppParamsSchema.default({}),
    candidates: z.array(modelId).default([]),
    fewShots: z.array(FewShotSchema).default([]),
    rubric: z.array(RubricQuestionSchema).default([]),
    quality: QualityPolicySchema.optional(),
    outputs: z.array(OutputVariantSchema).default([]),
    finetunes: FinetuneRoutingSchema.optional(),
  })
  .strict();

export type AppProfileInput = z.input<typeof AppProfileSchema>;
export type AppProfile = z.output<typeof AppProfileSchema>;
