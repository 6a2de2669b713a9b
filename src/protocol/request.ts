import { z } from 'zod';
import { PixelError } from './errors.ts';
import { assertCleanText, assertNesting, PROVIDER_OPTIONS_LIMITS, VARS_LIMITS } from './input-guards.ts';
import { zodToPixelError } from './validation.ts';

export const STYLES = [
  'photographic',
  'studio-product',
  'lifestyle',
  'illustration',
  'flat-vector',
  '3d-render',
  'cinematic',
  'line-art',
  'anime',
] as const;
export type Style = (typeof STYLES)[number];

export const FORMATS = ['png', 'jpeg', 'webp'] as const;
export type ImageFormat = (typeof FORMATS)[number];

export const QUALITIES = ['draft', 'standard', 'high'] as const;
export type Quality = (typeof QUALITIES)[number];

export const BACKGROUNDS = ['auto', 'opaque', 'transparent'] as const;
export type Background = (typeof BACKGROUNDS)[number];

export const SEED_MAX = 4_294_967_295;
export const PROMPT_MAX = 32_000;
export const SIDE_MIN = 64;
export const SIDE_MAX = 8192;
export const N_MAX = 16;
export const CFG_MIN = 1;
export const CFG_MAX = 20;
export const CFG_DEFAULT = 7;

const ASPECT_RE = /^(\d{1,3}(?:\.\d{1,3})?):(\d{1,3}(?:\.\d{1,3})?)$/;

const aspectRatio = z
  .string()
  .regex(ASPECT_RE, { message: 'must look like W:H (e.g. 16:9)' })
  .refine(
    (value) => {
      const match = ASPECT_RE.exec(value);
      if (!match) return false;
      const ratio = Number(match[1]) / Number(match[2]);
      return Number.isFinite(ratio) && ratio >= 1 / 8 && ratio <= 8;
    },
    { message: 'must be between 1:8 and 8:1' },
  );

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** The unified request: one shape for every model. */
export const GenerateRequestSchema = z
  .object({
    model: z.string().trim().min(1).max(200).optional(),
    // Optional only when `app` is given: the application's template renders it (src/apps).
    prompt: z.string().trim().min(1, { message: 'must not be empty' }).max(PROMPT_MAX).optional(),
    negativePrompt: z.string().trim().max(10_000).optional(),
    width: int(SIDE_MIN, SIDE_MAX).optional(),
    height: int(SIDE_MIN, SIDE_MAX).optional(),
    aspectRatio: aspectRatio.optional(),
    fit: z.enum(['exact', 'native']).optional(),
    cfgScale: z.number().min(CFG_MIN).max(CFG_MAX).optional(),
    style: z.enum(STYLES).optional(),
    quality: z.enum(QUALITIES).optional(),
    steps: int(1, 500).optional(),
    seed: int(0, SEED_MAX).optional(),
    n: int(1, N_MAX).default(1),
    format: z.enum(FORMATS).optional(),
    background: z.enum(BACKGROUNDS).optional(),
    providerOptions: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    onUnsupported: z.enum(['warn', 'error']).default('warn'),
    /** An application (apps/*.yaml + versions) whose template, defaults and variants build the request. */
    app: z.string().trim().min(1).max(63).optional(),
    /** The item's template variables (name → text). */
    vars: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/), z.string().max(2000)).optional(),
    /** Which application version: a label (`production`, `team:<id>`…) or a number; default: team label → production → file default. */
    appLabel: z.string().trim().min(1).max(80).optional(),
    appVersion: z.number().int().min(1).max(2_147_483_647).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.prompt === undefined && value.app === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['prompt'],
        message: 'is required (or give app and vars to render an application template)',
      });
    }
    for (const key of ['vars', 'appLabel', 'appVersion'] as const) {
      if (value[key] !== undefined && value.app === undefined) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'needs app (the application to render)' });
      }
    }
    if (value.appLabel !== undefined && value.appVersion !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['appLabel'],
        message: 'cannot be combined with appVersion; give one or the other',
      });
    }
    if (value.aspectRatio !== undefined && value.width !== undefined && value.height !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['aspectRatio'],
        message: 'cannot be combined with both width and height; give one or the other',
      });
    }
    if (value.fit === 'exact' && value.width === undefined && value.height === undefined) {
      ctx.addIssue({ code: 'custom', path: ['fit'], message: '"exact" needs width or height' });
    }
  })
  // Keeps `prompt: string` for every consumer: it is '' only while an `app` request is not yet rendered.
  .transform((value) => ({ ...value, prompt: value.prompt ?? '' }));

export type GenerateRequestInput = z.input<typeof GenerateRequestSchema>;
export type GenerateRequest = z.output<typeof GenerateRequestSchema>;

/** Default total output pixels of one request (n × width × height): 64 MP, one 8192×8192 image. */
export const DEFAULT_MAX_PIXELS_PER_REQUEST = 64 * 1024 * 1024;

export interface RequestLimits {
  /** n × width × height may not exceed this. */
  maxPixels: number;
}

let cachedEnvLimit: { raw: string | undefined; limits: RequestLimits } | undefined;

/**
 * PIXEL_MAX_PIXELS_PER_REQUEST (a positive integer; default 64 MP). A bad value throws a PixelError
 * naming the variable.
 */
export function requestLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): RequestLimits {
  const raw = env.PIXEL_MAX_PIXELS_PER_REQUEST;
  if (cachedEnvLimit !== undefined && cachedEnvLimit.raw === raw) return cachedEnvLimit.limits;
  let maxPixels = DEFAULT_MAX_PIXELS_PER_REQUEST;
  if (raw !== undefined && raw.trim() !== '') {
    const value = Number(raw.trim());
    if (!Number.isSafeInteger(value) || value < SIDE_MIN * SIDE_MIN) {
      throw new PixelError({
        code: 'invalid_argument',
        reason: 'config',
        field: 'PIXEL_MAX_PIXELS_PER_REQUEST',
        message: `PIXEL_MAX_PIXELS_PER_REQUEST must be an integer of at least ${SIDE_MIN * SIDE_MIN}, got ${JSON.stringify(raw)}`,
      });
    }
    maxPixels = value;
  }
  cachedEnvLimit = { raw, limits: { maxPixels } };
  return cachedEnvLimit.limits;
}

/**
 * Parses and validates, throwing a PixelError naming the field, the rule and the value given. Before the
 * schema: NUL characters and lone surrogates in any string, and unbounded nesting in providerOptions and
 * vars, are refused. After it: the request's total output pixels are held to `limits.maxPixels`.
 */
export function parseGenerateRequest(
  input: unknown,
  limits: RequestLimits = requestLimitsFromEnv(),
): GenerateRequest {
  if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
    const record = input as Record<string, unknown>;
    assertNesting(record.providerOptions, 'providerOptions', PROVIDER_OPTIONS_LIMITS);
    assertNesting(record.vars, 'vars', VARS_LIMITS);
  }
  assertCleanText(input);
  const result = GenerateRequestSchema.safeParse(input);
  if (!result.success) throw zodToPixelError(result.error, input);
  assertPixelBudget(result.data, limits);
  return result.data;
}

/**
 * n × width × height against the budget. A side not given is taken from the other side and the aspect
 * ratio (or as equal to it), so a request cannot slip past by naming one side only.
 */
function assertPixelBudget(request: GenerateRequest, limits: RequestLimits): void {
  const { width, height, n } = request;
  if (width === undefined && height === undefined) return;
  const ratio = aspectOf(request.aspectRatio);
  const w = width ?? Math.round((height ?? 0) * ratio);
  const h = height ?? Math.round((width ?? 0) / ratio);
  const total = n * w * h;
  if (total <= limits.maxPixels) return;
  const given = [width !== undefined && 'width', height !== undefined && 'height']
    .filter(Boolean)
    .join(' × ');
  throw new PixelError({
    code: 'resource_exhausted',
    reason: 'pixel_budget',
    retryable: false,
    field: n > 1 ? 'n' : width !== undefined ? 'width' : 'height',
    message: `n × width × height is ${n} × ${w} × ${h} = ${total} pixels, over this server's limit of ${limits.maxPixels} per request (from n and ${given}); ask for fewer or smaller images`,
  });
}

function aspectOf(aspectRatio: string | undefined): number {
  const match = aspectRatio ? ASPECT_RE.exec(aspectRatio) : null;
  return match ? Number(match[1]) / Number(match[2]) : 1;
}
