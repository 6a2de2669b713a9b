import type { SizeSpec } from '../models/schema.ts';
import type { NativeSize } from './types.ts';

/** What the caller asked for: exact pixels, a ratio, or nothing (model default). */
export interface SizeTarget {
  width?: number;
  height?: number;
  /** width / height */
  ratio?: number;
}

export function parseRatio(value: string): number {
  const [w, h] = value.split(':');
  return Number(w) / Number(h);
}

/** Distance between two ratios on a log scale, so 2:1 and 1:2 are equally far from 1:1. */
const ratioDistance = (a: number, b: number) => Math.abs(Math.log(a) - Math.log(b));
const pixelDistance = (a: number, b: number) => Math.abs(Math.log(a) - Math.log(b));

/**
 * Picks the native size for a target: nearest aspect ratio in log space first, then the nearest
 * pixel count. Pure and allocation-light: it runs on every request.
 */
export function solveSize(spec: SizeSpec, target: SizeTarget): NativeSize {
  const ratio = target.ratio ?? (target.width && target.height ? target.width / target.height : undefined);
  const pixels = target.width && target.height ? target.width * target.height : undefined;
  switch (spec.kind) {
    case 'list':
      return solveList(spec, ratio, pixels);
    case 'ratios':
      return solveRatios(spec, ratio, pixels);
    case 'free':
      return solveFree(spec, target, ratio);
  }
}

function solveList(spec: Extract<SizeSpec, { kind: 'list' }>, ratio?: number, pixels?: number): NativeSize {
  if (ratio === undefined) return { kind: 'pixels', width: spec.default.width, height: spec.default.height };
  let best = spec.sizes[0]!;
  let bestRatio = Number.POSITIVE_INFINITY;
  let bestPixels = Number.POSITIVE_INFINITY;
  for (const size of spec.sizes) {
    const dr = round6(ratioDistance(size.width / size.height, ratio));
    const dp = pixels === undefined ? 0 : pixelDistance(size.width * size.height, pixels);
    if (dr < bestRatio || (dr === bestRatio && dp < bestPixels)) {
      best = size;
      bestRatio = dr;
      bestPixels = dp;
    }
  }
  return { kind: 'pixels', width: best.width, height: best.height };
}

function solveRatios(
  spec: Extract<SizeSpec, { kind: 'ratios' }>,
  ratio?: number,
  pixels?: number,
): NativeSize {
  let best = spec.ratios.find((r) => r.ratio === spec.default) ?? spec.ratios[0]!;
  if (ratio !== undefined) {
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const candidate of spec.ratios) {
      const d = ratioDistance(candidate.width / candidate.height, ratio);
      if (d < bestDistance - 1e-9) {
        best = candidate;
        bestDistance = d;
      }
    }
  }
  if (spec.resolutions && pixels !== undefined) {
    let tier: string | undefined;
    let tierDistance = Number.POSITIVE_INFINITY;
    for (const [name, scale] of Object.entries(spec.resolutions)) {
      const d = pixelDistance(best.width * best.height * scale * scale, pixels);
      if (d < tierDistance) {
        tier = name;
        tierDistance = d;
      }
    }
    const scale = spec.resolutions[tier!]!;
    return {
      kind: 'ratio',
      ratio: best.ratio,
      width: Math.round(best.width * scale),
      height: Math.round(best.height * scale),
      resolution: tier,
    };
  }
  return { kind: 'ratio', ratio: best.ratio, width: best.width, height: best.height };
}

function solveFree(
  spec: Extract<SizeSpec, { kind: 'free' }>,
  target: SizeTarget,
  ratio?: number,
): NativeSize {
  let width: number;
  let height: number;
  if (target.width && target.height) {
    width = target.width;
    height = target.height;
  } else if (ratio !== undefined) {
    // Keep the model's default pixel budget at the requested ratio, or honour the one side given.
    if (target.width) [width, height] = [target.width, target.width / ratio];
    else if (target.height) [width, height] = [target.height * ratio, target.height];
    else {
      const area = spec.default.width * spec.default.height;
      width = Math.sqrt(area * ratio);
      height = width / ratio;
    }
  } else {
    return presetOrPixels(spec, spec.default.width, spec.default.height);
  }
  let r = width / height;
  if (spec.minAspect !== undefined && r < spec.minAspect) r = spec.minAspect;
  if (spec.maxAspect !== undefined && r > spec.maxAspect) r = spec.maxAspect;
  if (r !== width / height) {
    const area = width * height;
    width = Math.sqrt(area * r);
    height = width / r;
  }
  // Scale down to respect the largest side and the pixel budget, up to respect the smallest side.
  let scale = 1;
  const longest = Math.max(width, height);
  const shortest = Math.min(width, height);
  if (longest * scale > spec.maxSide) scale = spec.maxSide / longest;
  if (spec.maxPixels !== undefined && width * height * scale * scale > spec.maxPixels) {
    scale = Math.min(scale, Math.sqrt(spec.maxPixels / (width * height)));
  }
  if (shortest * scale < spec.minSide) scale = Math.max(scale, spec.minSide / shortest);
  width = snap(width * scale, spec);
  height = snap(height * scale, spec);
  if (spec.maxPixels !== undefined) {
    while (width * height > spec.maxPixels && (width > spec.minSide || height > spec.minSide)) {
      if (width >= height) width = Math.max(spec.minSide, width - spec.multipleOf);
      else height = Math.max(spec.minSide, height - spec.multipleOf);
    }
  }
  return presetOrPixels(spec, width, height);
}

function snap(value: number, spec: Extract<SizeSpec, { kind: 'free' }>): number {
  const m = spec.multipleOf;
  let snapped = Math.round(value / m) * m;
  const lowest = Math.ceil(spec.minSide / m) * m;
  const highest = Math.floor(spec.maxSide / m) * m;
  if (snapped < lowest) snapped = lowest;
  if (snapped > highest) snapped = highest;
  return snapped;
}

function presetOrPixels(
  spec: Extract<SizeSpec, { kind: 'free' }>,
  width: number,
  height: number,
): NativeSize {
  const presets = spec.presets;
  if (presets) {
    for (const preset in presets) {
      const size = presets[preset]!;
      if (size.width === width && size.height === height) return { kind: 'preset', preset, width, height };
    }
  }
  return { kind: 'pixels', width, height };
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
