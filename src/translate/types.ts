import type { ModelEntry } from '../models/schema.ts';
import type { Background, GenerateRequest, ImageFormat } from '../protocol/request.ts';

export type ReportStatus = 'native' | 'adjusted' | 'emulated' | 'dropped';

/** One line per parameter: what the provider gets, and how it differs from what was asked. */
export interface ReportLine {
  param: string;
  status: ReportStatus;
  requested?: unknown;
  sent?: unknown;
  note: string;
}

/** The size the provider is asked for, in the form its API takes. */
export type NativeSize =
  | { kind: 'pixels'; width: number; height: number }
  | { kind: 'ratio'; ratio: string; width: number; height: number; resolution?: string }
  | { kind: 'preset'; preset: string; width: number; height: number };

/** Everything solved into native terms; a transport's body builder only renames and nests. */
export interface NativeInputs {
  prompt: string;
  /** Present only when the model takes a negative prompt natively. */
  negativePrompt?: string;
  size: NativeSize;
  cfg?: number;
  steps?: number;
  /** Native quality tier value (OpenAI `quality`, Titan `quality`) when the model uses tiers. */
  tier?: string;
  seed?: number;
  /** Native style preset value. */
  style?: string;
  count: number;
  format: ImageFormat;
  background?: 'transparent' | 'opaque';
  /** A LoRA to apply (fine-tunes): ComfyUI inserts a LoraLoader, A1111 adds `<lora:name:strength>`, fal sends `loras` (name = URL). */
  lora?: { name: string; strength?: number };
}

export interface BodyBuilder {
  /** Fields Pixel sets itself; providerOptions may not use these (use the unified field instead). */
  readonly managedFields: readonly string[];
  /** Extra native fields a caller may pass through providerOptions (with a simple type check). */
  readonly passthroughFields: Readonly<Record<string, 'string' | 'number' | 'boolean' | 'object' | 'array'>>;
  build(entry: ModelEntry, inputs: NativeInputs): Record<string, unknown>;
}

/** One provider call: n is split by the model's images-per-call maximum. */
export interface CallPlan {
  count: number;
  /** Seed sent with this call (first image's seed), when the model takes seeds. */
  seed?: number;
  body: Record<string, unknown>;
}

/** What Pixel does to the provider's output before handing it over. */
export interface DeliveryPlan {
  fit: 'exact' | 'native';
  /** Final pixels with fit exact; undefined with fit native. */
  width?: number;
  height?: number;
  /** What the provider is asked for and what the caller gets. */
  nativeFormat: ImageFormat;
  format: ImageFormat;
  background: Background;
  /** Pixel must convert transparent output to opaque (flatten) or the reverse cannot be done. */
  flatten: boolean;
}

export interface Translation {
  /** The request after defaults: seed chosen, n, format resolved. */
  request: GenerateRequest & { seed?: number };
  model: ModelEntry;
  /** The id as the caller wrote it (alias or model id). */
  requestedModel: string;
  native: NativeInputs;
  calls: CallPlan[];
  delivery: DeliveryPlan;
  report: ReportLine[];
  costEstimateUsd: number | null;
}
