import type { ModelEntry, ProviderName } from '../models/schema.ts';

export interface ProviderProgress {
  /** Provider's own state word (e.g. `IN_QUEUE`, `processing`, `Pending`). */
  status: string;
  /** 0..1 when the provider reports it. */
  fraction?: number;
  queuePosition?: number;
  /** A partial image of the first image, while it is made (only when the call asks for `partialImages`). */
  partial?: { index: number; bytes: Uint8Array; mediaType: string; width: number; height: number };
}

export interface ProviderCall {
  model: ModelEntry;
  /** The native body exactly as translation built it. */
  body: Record<string, unknown>;
  /** Images this call must return. */
  count: number;
  signal?: AbortSignal;
  onProgress?: (progress: ProviderProgress) => void;
  /** Partial images to report through onProgress before the first image is done (models that stream them). */
  partialImages?: number;
}

export interface ProviderImage {
  bytes: Uint8Array;
  mediaType: string;
  width: number;
  height: number;
  /** The seed the provider says it used, when it says. */
  seed?: number;
}

export interface ProviderResult {
  images: ProviderImage[];
  requestId?: string;
  usage?: Record<string, unknown>;
  costUsd?: number;
  /** Provider-side notes worth surfacing (e.g. Stability `CONTENT_FILTERED` finish reason, revised prompt). */
  notes?: string[];
}

/** One adapter per provider; it speaks the wire format and classifies failures into PixelError codes. */
export interface ProviderAdapter {
  readonly name: ProviderName;
  generate(call: ProviderCall): Promise<ProviderResult>;
}

/** What each provider folder exports from its `index.ts`: how to build its adapter from the environment. */
export interface ProviderModule {
  readonly name: ProviderName;
  /** Environment variables it reads, for the README and `npm run smoke:providers` (secrets marked). */
  readonly env: ReadonlyArray<{ name: string; secret: boolean; description: string }>;
  /** Undefined when the provider is not configured (no key / no URL). */
  fromEnv(env: NodeJS.ProcessEnv): ProviderAdapter | undefined;
}
