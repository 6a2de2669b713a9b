import { CFG_DEFAULT, CFG_MAX, CFG_MIN } from '../protocol/request.ts';

export interface NativeRange {
  min: number;
  default: number;
  max: number;
}

/**
 * Our 1–20 scale (7 = the model's default) onto a model's native (min, default, max), piecewise
 * linearly: 1→min, 7→default, 20→max. Rounded to 2 decimals, which every provider accepts.
 */
export function mapCfg(value: number, native: NativeRange): number {
  let mapped: number;
  if (value <= CFG_DEFAULT) {
    mapped = native.min + ((value - CFG_MIN) / (CFG_DEFAULT - CFG_MIN)) * (native.default - native.min);
  } else {
    mapped =
      native.default + ((value - CFG_DEFAULT) / (CFG_MAX - CFG_DEFAULT)) * (native.max - native.default);
  }
  return Math.min(native.max, Math.max(native.min, Math.round(mapped * 100) / 100));
}
