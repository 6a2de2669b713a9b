import type { CfgSpec } from '../models/schema.ts';
import { PixelError } from '../protocol/errors.ts';
import { CFG_DEFAULT, CFG_MAX, CFG_MIN } from '../protocol/request.ts';
import { clamp } from './steps.ts';

export interface NativeRange {
  min: number;
  default: number;
  max: number;
}

/**
 * Our 1–20 scale (7 = the default) onto a guidance range, piecewise linearly: 1→min, 7→default,
 * 20→max. Rounded to 2 decimals, which every provider accepts.
 */
export function mapCfg(value: number, range: NativeRange): number {
  let mapped: number;
  if (value <= CFG_DEFAULT) {
    mapped = range.min + ((value - CFG_MIN) / (CFG_DEFAULT - CFG_MIN)) * (range.default - range.min);
  } else {
    mapped = range.default + ((value - CFG_DEFAULT) / (CFG_MAX - CFG_DEFAULT)) * (range.max - range.default);
  }
  return clamp(Math.round(mapped * 100) / 100, range.min, range.max);
}

export interface GuidancePlan {
  /** The value on the weights' useful range, before the host's limits. */
  mapped: number;
  /** What is sent: `mapped` clamped to what the host API accepts. */
  sent: number;
  clamped: boolean;
}

/**
 * The unified cfgScale onto the weights' useful range (the guidance family, the same on every host),
 * then clamped to what this host's API accepts.
 */
export function planGuidance(value: number, cfg: CfgSpec): GuidancePlan {
  const useful = cfg.useful;
  if (!useful) {
    throw new PixelError({
      code: 'internal',
      field: 'cfg.family',
      message: `cfg family "${cfg.family ?? '(none)'}" has no useful range: the entry did not come through the catalogue loader`,
    });
  }
  const mapped = mapCfg(value, useful);
  const sent = clamp(mapped, cfg.min, cfg.max);
  return { mapped, sent, clamped: sent !== mapped };
}
