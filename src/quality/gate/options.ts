import { z } from 'zod';
import { invalidArgument } from '../../protocol/errors.ts';
import { UNSURE_POLICIES } from '../loop/score.ts';

/**
 * The request's `gate` field: `true`/`false`, or an object that turns the gate on (unless
 * `enabled: false`) and overrides the application's policy. (`quality` is the protocol's
 * draft/standard/high, so the gate has its own field.)
 */
export const GateOptionsSchema = z
  .object({
    enabled: z.boolean().optional(),
    /** `pixel/inspect` (default), a VLM (`openai/gpt-4.1-mini`), `cascade:<vlm>`, or `ensemble:<vlm>,<vlm>`. */
    judge: z.string().min(3).max(400).optional(),
    threshold: z.number().min(0).max(1).optional(),
    maxRounds: z.number().int().min(1).max(10).optional(),
    budgetUsd: z.number().min(0).max(1000).optional(),
    unsure: z.enum(UNSURE_POLICIES).optional(),
    /** `template` (default) or an LLM (`anthropic/claude-haiku-4-5`). */
    promptWriter: z.string().min(3).max(200).optional(),
    /** An LLM that adds questions to the rubric's; absent: the rubric only. */
    questionWriter: z.string().min(3).max(200).optional(),
  })
  .strict();
export type GateOptions = z.infer<typeof GateOptionsSchema>;

export function parseGateOptions(value: unknown, field = 'gate'): GateOptions {
  if (value === undefined || value === null) return {};
  if (typeof value === 'boolean') return { enabled: value };
  const parsed = GateOptionsSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.length > 0 ? `${field}.${issue.path.join('.')}` : field;
    throw invalidArgument(path, `${path} ${issue.message}`);
  }
  return { enabled: true, ...parsed.data };
}

/**
 * Whether the gate runs: the request decides when it says so; otherwise the application's policy
 * decides, but only where the deployment lets applications turn it on (`PIXEL_QUALITY_GATE=auto`).
 */
export function gateWanted(
  options: GateOptions,
  appPolicy: { enabled?: boolean } | undefined,
  mode: 'request' | 'auto',
): boolean {
  if (options.enabled !== undefined) return options.enabled;
  return mode === 'auto' && appPolicy?.enabled === true;
}
