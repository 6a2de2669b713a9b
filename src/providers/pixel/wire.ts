import { z } from 'zod';
import { FORMATS, N_MAX, SEED_MAX, SIDE_MAX, SIDE_MIN, STYLES } from '../../protocol/request.ts';
import { zodToPixelError } from '../../protocol/validation.ts';

/** The native body translation builds for transport `local` (camelCase, already solved: no defaults here). */
export const SketchBodySchema = z
  .object({
    prompt: z.string().min(1),
    negativePrompt: z.string().optional(),
    width: z.number().int().min(SIDE_MIN).max(SIDE_MAX),
    height: z.number().int().min(SIDE_MIN).max(SIDE_MAX),
    seed: z.number().int().min(0).max(SEED_MAX),
    style: z.enum(STYLES).optional(),
    n: z.number().int().min(1).max(N_MAX),
    format: z.enum(FORMATS),
    background: z.enum(['transparent', 'opaque']),
  })
  .strict();

export type SketchBody = z.infer<typeof SketchBodySchema>;

/** Validates a body, throwing PixelError invalid_argument naming the field, the rule and the value. */
export function parseSketchBody(body: unknown): SketchBody {
  const result = SketchBodySchema.safeParse(body);
  if (!result.success) throw zodToPixelError(result.error, body);
  return result.data;
}
