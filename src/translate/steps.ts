import type { StepsSpec } from '../models/schema.ts';
import type { Quality } from '../protocol/request.ts';

/** Steps for a quality tier on a model with a steps range: draft = half the default, high = 1.5×. */
export function stepsForQuality(quality: Quality, spec: Extract<StepsSpec, { kind: 'range' }>): number {
  const factor = quality === 'draft' ? 0.5 : quality === 'high' ? 1.5 : 1;
  return clamp(Math.round(spec.default * factor), spec.min, spec.max);
}

/** A tier for explicit steps on a tiered model: ≤ 20 draft, ≤ 40 standard, above high. */
export function qualityForSteps(steps: number): Quality {
  if (steps <= 20) return 'draft';
  if (steps <= 40) return 'standard';
  return 'high';
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
