import { z } from 'zod';
import { FORMATS, QUALITIES, STYLES } from '../protocol/request.ts';

/**
 * The shape of one catalogue entry. Entries live as YAML data in `src/models/catalog/*.yaml`;
 * this schema is the contract between that data and translation.
 */

export const PROVIDERS = [
  'openai',
  'stability',
  'replicate',
  'fal',
  'bfl',
  'google',
  'vertex',
  'bedrock',
  'a1111',
  'comfyui',
  'pixel',
] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** How the request travels: which native body builder and which adapter handle it. */
export const TRANSPORTS = [
  'openai-images',
  'stability-v2beta',
  'stability-v1',
  'replicate',
  'fal',
  'bfl',
  'gemini',
  'vertex-imagen',
  'bedrock-titan',
  'bedrock-nova',
  'bedrock-stability',
  'a1111',
  'comfyui',
  'local',
] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** Prompt-style family, used by application template variants. */
export const FAMILIES = [
  'gpt-image',
  'dall-e',
  'sd3',
  'sdxl',
  'sd15',
  'stable-image',
  'flux',
  'imagen',
  'gemini',
  'titan',
  'nova',
  'sketch',
] as const;
export type Family = (typeof FAMILIES)[number];

const ratio = z.string().regex(/^\d+(\.\d+)?:\d+(\.\d+)?$/);
const size = z.object({ width: z.number().int().positive(), height: z.number().int().positive() });

/**
 * Sizes a model can produce:
 * - `list`: a fixed set of width×height pairs (OpenAI, SDXL v1, Titan).
 * - `ratios`: the caller picks an aspect ratio, the provider picks pixels; `pixels` says what each
 *   ratio yields so exact-size delivery can plan the crop (Stability v2beta, Imagen, FLUX schnell on Replicate).
 * - `free`: any width×height within constraints (gpt-image-2, FLUX on fal/BFL, Nova, A1111, ComfyUI).
 */
export const SizeSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('list'), sizes: z.array(size).min(1), default: size }),
  z.object({
    kind: z.literal('ratios'),
    ratios: z
      .array(z.object({ ratio, width: z.number().int().positive(), height: z.number().int().positive() }))
      .min(1),
    default: ratio,
    /** Resolution tiers some models add on top of the ratio (Gemini imageSize 1K/2K/4K): multiplier on the listed pixels. */
    resolutions: z.record(z.string(), z.number().positive()).optional(),
  }),
  z.object({
    kind: z.literal('free'),
    multipleOf: z.number().int().positive(),
    minSide: z.number().int().positive(),
    maxSide: z.number().int().positive(),
    maxPixels: z.number().int().positive().optional(),
    minAspect: z.number().positive().optional(),
    maxAspect: z.number().positive().optional(),
    default: size,
    /** Some free-size models take a named preset instead when one matches (fal image_size enums). */
    presets: z.record(z.string(), size).optional(),
  }),
]);
export type SizeSpec = z.infer<typeof SizeSpecSchema>;

const range = z.object({ min: z.number(), default: z.number(), max: z.number() });

/**
 * The useful guidance range of one set of weights (FLUX.1 dev, SDXL, ...), held once in a
 * catalogue's `guidance:` list; every host of those weights refers to it by `id`, so the same
 * unified cfgScale gives the same native guidance wherever the weights run.
 */
export const GuidanceFamilySchema = range
  .extend({ id: z.string().min(1), source: z.string().min(1) })
  .strict();
export type GuidanceFamily = z.infer<typeof GuidanceFamilySchema>;

/**
 * A host's guidance field: `param` is the wire name, `min`/`max` what the host API accepts (the
 * mapped value is clamped to it, and the clamp reported), `default` the host's own default (for
 * reference), `family` the guidance family whose useful range the unified scale maps onto.
 * `useful` is filled in by the catalogue loader from the family; a value written in YAML is replaced.
 */
export const CfgSpecSchema = range
  .extend({ param: z.string(), family: z.string().min(1).optional(), useful: range.optional() })
  .strict();
export type CfgSpec = z.infer<typeof CfgSpecSchema>;

export const NegativeEmulationSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('clause') }).strict(),
  z.object({ mode: z.literal('drop'), reason: z.string().min(1) }).strict(),
]);
export type NegativeEmulation = z.infer<typeof NegativeEmulationSchema>;

export const StepsSpecSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('range'),
    min: z.number().int(),
    default: z.number().int(),
    max: z.number().int(),
  }),
  /** Quality tiers instead of steps: our draft/standard/high → the native tier value. */
  z.object({
    kind: z.literal('tiers'),
    param: z.string(),
    tiers: z.record(z.enum(QUALITIES), z.string()),
    default: z.string(),
  }),
]);
export type StepsSpec = z.infer<typeof StepsSpecSchema>;

const usd = z.number().nonnegative();
/** Where a price was read and when (`YYYY-MM` or `YYYY-MM-DD`): prices change, so every one is dated. */
const priced = {
  source: z.string().min(1),
  checked: z.string().regex(/^\d{4}-\d{2}(-\d{2})?$/, 'must be YYYY-MM or YYYY-MM-DD'),
};
export const PriceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('per_image'), usd, ...priced }),
  /** keyed `<quality>:<W>x<H>`, with `*` wildcards, e.g. `high:1024x1536`, `*:1024x1024`. */
  z.object({ kind: z.literal('by_size_quality'), table: z.record(z.string(), usd), ...priced }),
  /** `roundUp`: each image is billed for whole megapixels (fal: 1024x1024 = 1.05 MP bills as 2). */
  z.object({ kind: z.literal('per_megapixel'), usd, roundUp: z.boolean().default(false), ...priced }),
  /**
   * By output area and quality tier (Bedrock Titan and Nova): the first tier whose `upToPixels` holds
   * the image; `usd` keyed by the native quality tier value (or `*`).
   */
  z.object({
    kind: z.literal('by_area_quality'),
    tiers: z
      .array(z.object({ upToPixels: z.number().int().positive(), usd: z.record(z.string(), usd) }))
      .min(1),
    ...priced,
  }),
  /** Credits per image (Stability: 1 credit = $0.01). */
  z.object({ kind: z.literal('credits'), credits: usd, usdPerCredit: usd, ...priced }),
  /**
   * Per second of the hardware the model runs on (Replicate community models); the estimate assumes
   * `typicalSeconds` per image, so it is only a guide.
   */
  z.object({
    kind: z.literal('per_second'),
    usd,
    hardware: z.string().min(1),
    typicalSeconds: z.number().positive(),
    ...priced,
  }),
  z.object({ kind: z.literal('free'), note: z.string().optional() }),
  /** No price Pixel can stand behind; `reason` says why. */
  z.object({ kind: z.literal('unknown'), reason: z.string().min(1) }),
]);
export type Price = z.infer<typeof PriceSchema>;

export const StatusSchema = z.discriminatedUnion('state', [
  z.object({ state: z.literal('active') }),
  z.object({
    state: z.literal('deprecated'),
    date: z.string(),
    replacement: z.string().optional(),
    note: z.string().optional(),
  }),
  z.object({
    state: z.literal('retired'),
    date: z.string(),
    replacement: z.string(),
    note: z.string().optional(),
  }),
]);
export type ModelStatus = z.infer<typeof StatusSchema>;

export const ModelEntrySchema = z
  .object({
    /** `<provider>/<provider model id>`: what callers put in `model`. */
    id: z.string().min(3),
    provider: z.enum(PROVIDERS),
    /** The id the provider itself knows (path segment, `model` field, engine id, Bedrock model id, version hash). */
    providerModelId: z.string().min(1),
    transport: z.enum(TRANSPORTS),
    family: z.enum(FAMILIES),
    displayName: z.string(),
    description: z.string().optional(),
    sizes: SizeSpecSchema,
    /** Native guidance control; null when the model has none (see CfgSpecSchema). */
    cfg: CfgSpecSchema.nullable(),
    steps: StepsSpecSchema.nullable(),
    /** Native seed range; null when seeds are not accepted. `zeroMeansRandom` marks providers where 0 is not a seed. */
    seed: z
      .object({ min: z.number().int(), max: z.number().int(), zeroMeansRandom: z.boolean().default(false) })
      .nullable(),
    negativePrompt: z.boolean(),
    /**
     * How a negative prompt is emulated when the model has none: `clause` appends an "Avoid …"
     * sentence; `drop` leaves it out, with the reason (models that do not follow negations draw
     * what a negative names). Required when `negativePrompt` is false.
     */
    negativeEmulation: NegativeEmulationSchema.optional(),
    /**
     * Our style → the provider's native preset value (`param` is the wire field). Partial: a style
     * with no fitting native preset is left out and translation emulates it with a prompt fragment.
     */
    styles: z.object({ param: z.string(), map: z.partialRecord(z.enum(STYLES), z.string()) }).nullable(),
    imagesPerCall: z.number().int().positive(),
    formats: z.array(z.enum(FORMATS)).min(1),
    defaultFormat: z.enum(FORMATS),
    transparentBackground: z.boolean(),
    /**
     * Input images the model takes (`POST /v1/images/edits`): how many at most, and whether a mask may
     * mark the area to change. Absent when the model takes none.
     */
    inputImages: z.object({ max: z.number().int().positive(), mask: z.boolean() }).strict().optional(),
    /** Partial images the model can send while it makes an image (streaming); absent when it sends none. */
    partialImages: z.number().int().min(1).max(3).optional(),
    promptMaxLength: z.number().int().positive(),
    price: PriceSchema,
    status: StatusSchema,
    /** Set for self-hosted entries whose capabilities come from configuration. */
    selfHosted: z.boolean().default(false),
    /**
     * What makes the pixels, as the IPTC digital source type embedded in every image: a trained model
     * (`trainedAlgorithmicMedia`, when absent) or a plain algorithm (`algorithmicMedia`, e.g. pixel/sketch).
     */
    digitalSourceType: z.enum(['trainedAlgorithmicMedia', 'algorithmicMedia']).optional(),
    /**
     * The provider's own prompt rewriter, when the model has one: `field` is the providerOptions
     * field (and wire field) that switches it, `default` what the provider does when it is not sent.
     * Pixel sends it only when the caller sets it, and always reports which applies.
     */
    promptRewriter: z
      .object({ field: z.string().min(1), default: z.boolean() })
      .strict()
      .optional(),
    /**
     * A LoRA every call applies: a fine-tune's weights, set by the fine-tune registry (src/finetune);
     * shipped entries leave it out. `name` is a LoRA file name on a ComfyUI host, or the weights URL for
     * fal's LoRA endpoints (`loras[].path`).
     */
    lora: z
      .object({ name: z.string().min(1), strength: z.number() })
      .strict()
      .optional(),
    /** Where the ranges, sizes and limits of this entry come from, in a sentence or two. */
    source: z.string().min(1).optional(),
    /** Free-form facts for `pixel models` (e.g. "seed ignored unless addWatermark=false"). */
    notes: z.array(z.string()).default([]),
  })
  .strict();

export type ModelEntryInput = z.input<typeof ModelEntrySchema>;
export type ModelEntry = z.output<typeof ModelEntrySchema>;

/** An alias names an ordered list of routes (model ids); the first healthy one that can honour the request wins. */
export const AliasSchema = z
  .object({ alias: z.string(), description: z.string().optional(), routes: z.array(z.string()).min(1) })
  .strict();
export type Alias = z.infer<typeof AliasSchema>;

export const CatalogFileSchema = z
  .object({
    models: z.array(ModelEntrySchema).default([]),
    aliases: z.array(AliasSchema).default([]),
    guidance: z.array(GuidanceFamilySchema).default([]),
  })
  .strict();
export type CatalogFile = z.infer<typeof CatalogFileSchema>;
