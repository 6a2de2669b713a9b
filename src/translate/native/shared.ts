import type { ModelEntry, Transport } from '../../models/schema.ts';
import { PixelError } from '../../protocol/errors.ts';
import type { NativeInputs, NativeSize } from '../types.ts';

/** Drops keys whose value is undefined, so a body carries only the fields Pixel means to send. */
export function compact<T extends Record<string, unknown>>(fields: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in fields) {
    const value = fields[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** A translation bug (the wrong kind of solved size for a transport), never the caller's fault. */
export function builderError(transport: Transport, entry: ModelEntry, message: string): PixelError {
  return new PixelError({
    code: 'internal',
    reason: 'body_builder',
    message: `${transport} body for ${entry.id}: ${message}`,
  });
}

/** The `W:H` string for transports that only take an aspect ratio. */
export function ratioOf(transport: Transport, entry: ModelEntry, size: NativeSize): string {
  if (size.kind === 'ratio') return size.ratio;
  throw builderError(
    transport,
    entry,
    `needs an aspect-ratio size, got ${size.kind} ${size.width}x${size.height}`,
  );
}

/** Width and height for transports that take pixels (every solved size carries them). */
export function pixelsOf(size: NativeSize): { width: number; height: number } {
  return { width: size.width, height: size.height };
}

/** The cfg value under the entry's own wire name (`guidance`, `guidance_scale`, `cfg_scale`, ...). */
export function cfgField(entry: ModelEntry, cfg: number | undefined): Record<string, number> {
  return entry.cfg && cfg !== undefined ? { [entry.cfg.param]: cfg } : {};
}

/**
 * The optional inputs this entry actually has controls for. Translation already leaves out what a
 * model cannot take; gating here too means a builder can never emit a field its model lacks.
 */
export function supported(entry: ModelEntry, inputs: NativeInputs) {
  return {
    negativePrompt: entry.negativePrompt ? inputs.negativePrompt : undefined,
    steps: entry.steps?.kind === 'range' ? inputs.steps : undefined,
    tier: entry.steps?.kind === 'tiers' ? inputs.tier : undefined,
    seed: entry.seed ? inputs.seed : undefined,
    style: entry.styles ? inputs.style : undefined,
  };
}
