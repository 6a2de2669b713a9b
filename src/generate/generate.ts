import { type ApplicationResolver, type ApplicationUse, applyApplication } from '../apps/apply.ts';
import type { Catalog } from '../models/catalog.ts';
import type { ModelEntry, ProviderName } from '../models/schema.ts';
import { deliver } from '../postprocess/deliver.ts';
import { PixelError, toPixelError } from '../protocol/errors.ts';
import { type GenerateRequestInput, parseGenerateRequest } from '../protocol/request.ts';
import { checkedHeader } from '../providers/common/http.ts';
import { linkSignals } from '../providers/common/linked-signal.ts';
import { type FallbackAttempt, runWithFallback } from '../providers/reliability/index.ts';
import type { ProviderAdapter, ProviderProgress } from '../providers/types.ts';
import { type TranslateOptions, translateFor } from '../translate/translate.ts';
import type { ReportLine, Translation } from '../translate/types.ts';
import { bodyWithInputs, type InputImages, plansTakingInputs } from './input-images.ts';

export type ProgressEvent =
  | { stage: 'translating' }
  | { stage: 'generating'; route: string; call: number; calls: number; provider?: ProviderProgress }
  | { stage: 'post-processing'; done: number; total: number };

export interface GeneratedImage {
  index: number;
  bytes: Uint8Array;
  mediaType: string;
  width: number;
  height: number;
  /**
   * The seed that makes this image again: the provider's own per-image seed where it returns one
   * (or the seed of a one-image call); otherwise the seed of the call that made it, with `seedIndex`.
   */
  seed?: number;
  /**
   * This image's place among the images its provider call returned, set when `seed` is that call's
   * seed shared by a batch (a provider that filters images out shifts the places of the rest).
   */
  seedIndex?: number;
  /** Whether a request with `seed` alone (n = 1) makes this image again; false for `seedIndex` images. */
  reproducible?: boolean;
  /** What the provider returned before post-processing. */
  native: { mediaType: string; width: number; height: number };
  operations: string[];
  providerRequestId?: string;
}

export interface GenerateOutcome {
  translation: Translation;
  /** The model id that produced the images (an alias's route). */
  route: string;
  images: GeneratedImage[];
  attempts: FallbackAttempt[];
  notes: string[];
  usage: Record<string, unknown>[];
  latencyMs: number;
  /** Set when the request named an application: which one, which version, and how it rendered. */
  application?: ApplicationUse;
}

export interface GenerateDeps {
  catalog: Catalog;
  adapter: (provider: ProviderName) => ProviderAdapter | undefined;
  defaultModel?: string;
  randomSeed?: TranslateOptions['randomSeed'];
  /** Provider calls run at once for one request (n split into calls). */
  callConcurrency?: number;
  /** Renders `app` + `vars` requests (src/apps); without it such a request is refused. */
  applications?: ApplicationResolver;
}

export interface GenerateOptions {
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** The caller's team: its `team:<team>` application label is used first. */
  team?: string;
  /** An edit's input images (and mask): only routes whose catalogue entry takes them are used. */
  inputs?: InputImages;
  /** Partial images of the first image to report as provider progress (streaming surfaces). */
  partialImages?: number;
}

/**
 * One request end to end, short of storage: translate for each eligible route, call the provider
 * (n split into calls, bounded concurrency), fall back along an alias's routes on retryable
 * failures, then post-process every image to the delivery plan.
 */
export async function generate(
  input: GenerateRequestInput | unknown,
  deps: GenerateDeps,
  options: GenerateOptions = {},
): Promise<GenerateOutcome> {
  const started = performance.now();
  options.onProgress?.({ stage: 'translating' });
  const app = await applyApplication(input, deps.applications, options.team);
  const parsed = parseGenerateRequest(app.input);
  const requested = parsed.model ?? deps.defaultModel ?? 'pixel/sketch';
  const { routes } = deps.catalog.resolve(requested);
  // A fine-tune inserts its trigger phrase (reported as an adjusted prompt).
  const adjusted = deps.catalog.adjustPrompt?.(routes[0]!.id, parsed.prompt);
  const request = adjusted ? { ...parsed, prompt: adjusted.prompt } : parsed;
  const translateOptions: TranslateOptions = { randomSeed: deps.randomSeed };

  // The first route decides what the caller gets; a fallback route must honour at least as much.
  const primary = translateFor(request, routes[0]!, requested, translateOptions);
  const seeded = { ...request, seed: primary.request.seed };
  const plans: Translation[] = [primary];
  for (const route of routes.slice(1)) {
    try {
      const candidate = translateFor(seeded, route, requested, translateOptions);
      if (honoursAsMuch(candidate, primary)) plans.push(candidate);
    } catch {
      // A route that cannot take this request (strict mode, prompt too long…) is simply not eligible.
    }
  }

  // Routes whose provider has no credentials here are skipped up front rather than "failing".
  const configured = plansTakingInputs(plans, options.inputs).filter(
    (plan) => deps.adapter(plan.model.provider) !== undefined,
  );
  if (configured.length === 0) throw notConfigured(primary.model.provider);
  const fallbackRoutes = configured.map((plan) => ({
    id: plan.model.id,
    run: (signal: AbortSignal | undefined) => runCalls(plan, deps, { ...options, signal }),
  }));
  const result = await runWithFallback(fallbackRoutes, { signal: options.signal });
  const { plan, raw } = result.value;

  const images: GeneratedImage[] = [];
  let done = 0;
  for (const image of raw) {
    // The adapter's check already decoded this header: deliver decodes only when there is work to do.
    const delivered = await deliver(image, plan.delivery, checkedHeader(image.bytes));
    images.push({
      index: images.length,
      bytes: delivered.bytes,
      mediaType: delivered.mediaType,
      width: delivered.width,
      height: delivered.height,
      ...(image.seed !== undefined && { seed: image.seed, reproducible: image.reproducible }),
      ...(image.seedIndex !== undefined && { seedIndex: image.seedIndex }),
      native: { mediaType: image.mediaType, width: image.width, height: image.height },
      operations: delivered.operations,
      ...(image.requestId !== undefined && { providerRequestId: image.requestId }),
    });
    options.onProgress?.({ stage: 'post-processing', done: ++done, total: raw.length });
  }
  const seedLine = sharedSeedLine(raw);
  const report = [
    ...app.report,
    ...(adjusted ? [adjusted.line] : []),
    ...plan.report,
    ...(seedLine ? [seedLine] : []),
  ];
  return {
    // Application provenance lines lead the report: where the prompt and each default came from.
    translation: report.length !== plan.report.length ? { ...plan, report } : plan,
    ...(app.application && { application: app.application }),
    route: result.route,
    images,
    attempts: result.attempts,
    notes: [...new Set(raw.flatMap((r) => r.notes))],
    usage: raw.flatMap((r) => (r.usage ? [r.usage] : [])),
    latencyMs: performance.now() - started,
  };
}

interface RawImage {
  bytes: Uint8Array;
  mediaType: string;
  width: number;
  height: number;
  seed?: number;
  seedIndex?: number;
  reproducible?: boolean;
  requestId?: string;
  notes: string[];
  usage?: Record<string, unknown>;
}

async function runCalls(
  plan: Translation,
  deps: GenerateDeps,
  options: GenerateOptions,
): Promise<{ plan: Translation; raw: RawImage[] }> {
  const adapter = deps.adapter(plan.model.provider);
  if (!adapter) throw notConfigured(plan.model.provider);
  const calls = plan.calls;
  const results: RawImage[][] = new Array(calls.length);
  const limit = Math.max(1, deps.callConcurrency ?? 4);
  let next = 0;
  const controller = new AbortController();
  const linked = linkSignals([options.signal, controller.signal]);
  const { signal } = linked;
  const worker = async () => {
    while (next < calls.length) {
      const index = next++;
      const call = calls[index]!;
      options.onProgress?.({
        stage: 'generating',
        route: plan.model.id,
        call: index + 1,
        calls: calls.length,
      });
      const result = await adapter.generate({
        model: plan.model,
        body: bodyWithInputs(call.body, options.inputs),
        count: call.count,
        signal,
        ...(index === 0 && options.partialImages && { partialImages: options.partialImages }),
        onProgress: (provider) =>
          options.onProgress?.({
            stage: 'generating',
            route: plan.model.id,
            call: index + 1,
            calls: calls.length,
            provider,
          }),
      });
      if (result.images.length === 0) {
        throw new PixelError({
          code: 'unavailable',
          reason: 'malformed_response',
          provider: plan.model.provider,
          message: `${plan.model.id} returned no images`,
        });
      }
      const seeds = imageSeeds(result.images, call.seed, call.count);
      results[index] = result.images.map((image, i) => ({
        ...image,
        ...seeds[i],
        requestId: result.requestId,
        notes: result.notes ?? [],
        usage: i === 0 ? result.usage : undefined,
      }));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(limit, calls.length) }, worker));
  } catch (error) {
    controller.abort(toPixelError(error));
    throw error;
  } finally {
    linked.release();
  }
  return { plan, raw: results.flat() };
}

type ImageSeed = Pick<RawImage, 'seed' | 'seedIndex' | 'reproducible'>;

/**
 * The seed recorded for each image of one provider call. A one-image call, or a provider that
 * returns a different seed for every image (Stability v1, A1111, pixel/sketch), gives each image a
 * seed that makes it again. Otherwise (fal, Replicate, Bedrock Titan and Nova, Imagen, ComfyUI: one
 * seed for the whole batch) each image gets the call's seed and its index, marked not reproducible.
 */
export function imageSeeds(
  images: ReadonlyArray<{ seed?: number }>,
  callSeed: number | undefined,
  /** Images the call asked for: one left after a provider filtered the others still shared a batch. */
  asked = images.length,
): ImageSeed[] {
  if (images.length === 1 && asked <= 1) {
    const seed = images[0]!.seed ?? callSeed;
    return [seed === undefined ? {} : { seed, reproducible: true }];
  }
  const given = images.map((image) => image.seed);
  const distinct = given.every((seed) => seed !== undefined) && new Set(given).size === given.length;
  if (distinct && (images.length > 1 || asked <= 1)) {
    return given.map((seed) => ({ seed, reproducible: true }));
  }
  const shared = given.find((seed) => seed !== undefined) ?? callSeed;
  if (shared === undefined) return images.map(() => ({}));
  return images.map((_, seedIndex) => ({ seed: shared, seedIndex, reproducible: false }));
}

/** The report line that says which images share their call's seed, when any do. */
function sharedSeedLine(raw: readonly RawImage[]): ReportLine | undefined {
  const shared = raw.flatMap((image, index) => (image.reproducible === false ? [index + 1] : []));
  if (shared.length === 0) return undefined;
  return {
    param: 'seed',
    status: 'adjusted',
    sent: raw.map((image) => image.seed ?? null),
    note: `images ${shared.join(', ')} came from calls that made several images from one seed: each is recorded with its call's seed and its index (seedIndex), reproducible: false (that seed with n = 1 does not make the same image)`,
  };
}

/**
 * A fallback may not drop a parameter the primary route honoured (natively, adjusted or emulated):
 * the caller asked for it. In strict mode translation already refuses anything emulated or dropped.
 */
function honoursAsMuch(candidate: Translation, primary: Translation): boolean {
  const dropped = new Set(candidate.report.filter((l) => l.status === 'dropped').map((l) => l.param));
  return primary.report.every((line) => line.status === 'dropped' || !dropped.has(line.param));
}

function notConfigured(provider: string): PixelError {
  return new PixelError({
    code: 'failed_precondition',
    reason: 'provider_not_configured',
    field: 'model',
    message: `provider ${provider} is not configured (see the README for its environment variables)`,
  });
}

export type { ModelEntry };
