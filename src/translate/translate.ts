import { randomInt } from 'node:crypto';
import { type Catalog, defaultCatalog } from '../models/catalog.ts';
import type { ModelEntry } from '../models/schema.ts';
import { invalidArgument, PixelError } from '../protocol/errors.ts';
import {
  CFG_DEFAULT,
  type GenerateRequest,
  type GenerateRequestInput,
  type ImageFormat,
  parseGenerateRequest,
} from '../protocol/request.ts';
import { mapCfg } from './cfg.ts';
import { BODY_BUILDERS } from './native/index.ts';
import { estimateCost } from './price.ts';
import { fitSeed, nthSeed, usableRange } from './seed.ts';
import { parseRatio, type SizeTarget, solveSize } from './size.ts';
import { clamp, qualityForSteps, stepsForQuality } from './steps.ts';
import { STYLE_FRAGMENTS } from './style-fragments.ts';
import type { CallPlan, DeliveryPlan, NativeInputs, NativeSize, ReportLine, Translation } from './types.ts';

export interface TranslateOptions {
  catalog?: Catalog;
  /** Model used when the request names none (the CLI and server pass `defaultModelId(env)`). */
  defaultModel?: string;
  /** Seed source when the caller gives none; injectable so tests are deterministic. */
  randomSeed?: (lo: number, hi: number) => number;
}

const DEFAULT_MODEL = 'pixel/sketch';

/**
 * Unified request → the native request for the first route of the model (or alias), plus the
 * report. Pure computation: no I/O. Throws PixelError for bad input, unknown or retired models,
 * and, with `onUnsupported: 'error'`, for anything that would be dropped or emulated.
 */
export function translate(
  input: GenerateRequestInput | GenerateRequest | unknown,
  options: TranslateOptions = {},
): Translation {
  const request = parseGenerateRequest(input);
  if (request.app !== undefined) {
    // An application request has no prompt until src/apps renders it (previewApplication does both).
    throw new PixelError({
      code: 'failed_precondition',
      field: 'app',
      reason: 'app_not_rendered',
      message: `render application "${request.app}" first (previewApplication / pixel apps preview)`,
    });
  }
  const catalog = options.catalog ?? defaultCatalog();
  const requested = request.model ?? options.defaultModel ?? DEFAULT_MODEL;
  const { routes } = catalog.resolve(requested);
  return translateFor(request, routes[0]!, requested, options);
}

/** Translation for one specific catalogue entry (used per route when an alias falls back). */
export function translateFor(
  request: GenerateRequest,
  model: ModelEntry,
  requestedModel: string,
  options: TranslateOptions = {},
): Translation {
  const report: ReportLine[] = [];
  const builder = BODY_BUILDERS[model.transport];

  if (requestedModel !== model.id) {
    report.push({
      param: 'model',
      status: 'native',
      requested: requestedModel,
      sent: model.id,
      note: `route ${model.id}`,
    });
  }
  if (model.status.state === 'deprecated') {
    const instead = model.status.replacement ? `; use ${model.status.replacement}` : '';
    report.push({
      param: 'model',
      status: 'native',
      sent: model.id,
      note: `deprecated since ${model.status.date}${instead}`,
    });
  }

  // Prompt, negative prompt, style: the prompt may gain emulation clauses.
  let prompt = request.prompt;
  let negativePrompt: string | undefined;
  if (request.negativePrompt) {
    if (model.negativePrompt) {
      negativePrompt = request.negativePrompt;
      report.push({
        param: 'negativePrompt',
        status: 'native',
        sent: negativePrompt,
        note: 'sent as the native negative prompt',
      });
    } else {
      prompt = `${prompt}. Avoid: ${request.negativePrompt}.`;
      report.push({
        param: 'negativePrompt',
        status: 'emulated',
        requested: request.negativePrompt,
        note: `${model.id} has no negative prompt; appended to the prompt as an "Avoid: …" clause`,
      });
    }
  }
  let style: string | undefined;
  if (request.style) {
    const native = model.styles?.map[request.style];
    if (native !== undefined) {
      style = native;
      report.push({
        param: 'style',
        status: 'native',
        requested: request.style,
        sent: native,
        note: `native ${model.styles!.param} "${native}"`,
      });
    } else {
      prompt = `${prompt}, ${STYLE_FRAGMENTS[request.style]}`;
      report.push({
        param: 'style',
        status: 'emulated',
        requested: request.style,
        note: `${model.id} has no native "${request.style}" preset; added a style fragment to the prompt`,
      });
    }
  }
  if (prompt.length > model.promptMaxLength) {
    throw invalidArgument(
      'prompt',
      `prompt is ${prompt.length} characters (after style and negative-prompt clauses); ${model.id} accepts at most ${model.promptMaxLength}`,
    );
  }

  const { size, delivery: sizeDelivery } = planSize(request, model, report);
  const format = planFormat(request, model, report);
  const background = planBackground(request, model, format, report);
  const delivery: DeliveryPlan = {
    ...sizeDelivery,
    nativeFormat: format.native,
    format: format.deliver,
    background: request.background ?? 'auto',
    // An opaque request must not come back with alpha, whatever the model did.
    flatten: request.background === 'opaque' || (format.deliver === 'jpeg' && format.native !== 'jpeg'),
  };
  const cfg = planCfg(request, model, report);
  const { steps, tier } = planSteps(request, model, report);
  const seed = planSeed(request, model, report, options);
  const passthrough = planProviderOptions(
    request,
    model,
    builder.managedFields,
    builder.passthroughFields,
    report,
  );

  const calls: CallPlan[] = [];
  const perCall = model.imagesPerCall;
  const native: NativeInputs = {
    prompt,
    size,
    count: Math.min(perCall, request.n),
    format: format.native,
    ...(negativePrompt !== undefined && { negativePrompt }),
    ...(cfg !== undefined && { cfg }),
    ...(steps !== undefined && { steps }),
    ...(tier !== undefined && { tier }),
    ...(seed !== undefined && { seed }),
    ...(style !== undefined && { style }),
    ...(background !== undefined && { background }),
  };
  for (let done = 0; done < request.n; done += perCall) {
    const count = Math.min(perCall, request.n - done);
    const callSeed = seed === undefined ? undefined : nthSeed(seed, done, model.seed!);
    const inputs: NativeInputs =
      count === native.count && callSeed === seed
        ? native
        : { ...native, count, ...(callSeed !== undefined && { seed: callSeed }) };
    const body = builder.build(model, inputs);
    if (passthrough) Object.assign(passthroughTarget(body, model), passthrough);
    calls.push({ count, ...(callSeed !== undefined && { seed: callSeed }), body });
  }
  report.push({
    param: 'n',
    status: 'native',
    requested: request.n,
    sent: calls.map((c) => c.count),
    note:
      calls.length === 1
        ? `${request.n} image${request.n === 1 ? '' : 's'} in one call`
        : `split into ${calls.length} calls (${model.id} makes at most ${perCall} per call)`,
  });

  if (request.onUnsupported === 'error') enforceStrict(model, report);

  return {
    request: seed === undefined ? request : { ...request, seed: request.seed ?? seed },
    model,
    requestedModel,
    native,
    calls,
    delivery,
    report,
    costEstimateUsd: estimateCost(model.price, request.n, size.width, size.height, tier),
  };
}

function planSize(
  request: GenerateRequest,
  model: ModelEntry,
  report: ReportLine[],
): { size: NativeSize; delivery: Omit<DeliveryPlan, 'nativeFormat' | 'format' | 'background' | 'flatten'> } {
  const { width, height } = request;
  const ratio = request.aspectRatio ? parseRatio(request.aspectRatio) : undefined;
  const target: SizeTarget = { width, height, ratio };
  const size = solveSize(model.sizes, target);
  const fit = request.fit ?? (width !== undefined && height !== undefined ? 'exact' : 'native');
  const nativeText = describeSize(size);

  if (width === undefined && height === undefined && ratio === undefined) {
    report.push({
      param: 'size',
      status: 'native',
      sent: nativeText,
      note: `model default ${size.width}x${size.height}`,
    });
    return { size, delivery: { fit: 'native' } };
  }
  // The exact pixels the caller wants: both sides, or one side and the ratio (or square).
  let wantW = width;
  let wantH = height;
  if (wantW === undefined || wantH === undefined) {
    const r = ratio ?? 1;
    if (wantW !== undefined) wantH = Math.max(1, Math.round(wantW / r));
    else if (wantH !== undefined) wantW = Math.max(1, Math.round(wantH * r));
  }
  const asked = wantW !== undefined ? `${wantW}x${wantH}` : request.aspectRatio!;

  if (wantW === undefined || wantH === undefined) {
    // Only a ratio: the nearest native ratio is the answer; nothing to crop.
    const nativeRatio = size.width / size.height;
    const same = Math.abs(Math.log(nativeRatio) - Math.log(ratio!)) < 0.01;
    report.push({
      param: 'aspectRatio',
      status: same ? 'native' : 'adjusted',
      requested: request.aspectRatio,
      sent: nativeText,
      note: same
        ? `${size.width}x${size.height}`
        : `nearest native ratio: ${nativeText} (${size.width}x${size.height})`,
    });
    return { size, delivery: { fit: 'native' } };
  }

  const exactNative = size.width === wantW && size.height === wantH;
  if (exactNative) {
    report.push({
      param: 'size',
      status: 'native',
      requested: asked,
      sent: nativeText,
      note: `${wantW}x${wantH} natively`,
    });
    return { size, delivery: fit === 'exact' ? { fit, width: wantW, height: wantH } : { fit } };
  }
  if (fit === 'exact') {
    report.push({
      param: 'size',
      status: 'emulated',
      requested: asked,
      sent: nativeText,
      note: `generated at ${size.width}x${size.height} (nearest native), then center-cropped and resized to exactly ${wantW}x${wantH}`,
    });
    return { size, delivery: { fit, width: wantW, height: wantH } };
  }
  report.push({
    param: 'size',
    status: 'adjusted',
    requested: asked,
    sent: nativeText,
    note: `nearest native size ${size.width}x${size.height} (fit: native)`,
  });
  return { size, delivery: { fit } };
}

function describeSize(size: NativeSize): string {
  if (size.kind === 'ratio') return size.resolution ? `${size.ratio} @ ${size.resolution}` : size.ratio;
  if (size.kind === 'preset') return size.preset;
  return `${size.width}x${size.height}`;
}

function planFormat(
  request: GenerateRequest,
  model: ModelEntry,
  report: ReportLine[],
): { native: ImageFormat; deliver: ImageFormat } {
  const wanted = request.format ?? 'png';
  if (model.formats.includes(wanted)) {
    if (request.format)
      report.push({ param: 'format', status: 'native', requested: wanted, sent: wanted, note: wanted });
    return { native: wanted, deliver: wanted };
  }
  // Prefer a lossless source to convert from; otherwise whatever the model makes by default.
  const source: ImageFormat = model.formats.includes('png') ? 'png' : model.defaultFormat;
  report.push({
    param: 'format',
    status: 'emulated',
    requested: wanted,
    sent: source,
    note: `${model.id} cannot output ${wanted}; generated ${source} and converted`,
  });
  return { native: source, deliver: wanted };
}

function planBackground(
  request: GenerateRequest,
  model: ModelEntry,
  format: { native: ImageFormat; deliver: ImageFormat },
  report: ReportLine[],
): 'transparent' | 'opaque' | undefined {
  const wanted = request.background ?? 'auto';
  if (wanted === 'auto') return undefined;
  if (wanted === 'transparent') {
    if (format.deliver === 'jpeg') {
      throw invalidArgument(
        'background',
        'background "transparent" needs format png or webp (jpeg has no alpha channel)',
      );
    }
    if (model.transparentBackground && format.native !== 'jpeg') {
      report.push({
        param: 'background',
        status: 'native',
        requested: wanted,
        sent: 'transparent',
        note: 'transparent',
      });
      return 'transparent';
    }
    report.push({
      param: 'background',
      status: 'dropped',
      requested: wanted,
      note: `${model.id} cannot make a transparent background; the image will be opaque`,
    });
    return undefined;
  }
  if (model.transparentBackground) {
    report.push({ param: 'background', status: 'native', requested: wanted, sent: 'opaque', note: 'opaque' });
    return 'opaque';
  }
  report.push({
    param: 'background',
    status: 'native',
    requested: wanted,
    note: 'this model always makes opaque images',
  });
  return undefined;
}

function planCfg(request: GenerateRequest, model: ModelEntry, report: ReportLine[]): number | undefined {
  if (!model.cfg) {
    if (request.cfgScale !== undefined) {
      report.push({
        param: 'cfgScale',
        status: 'dropped',
        requested: request.cfgScale,
        note: `${model.id} has no guidance control`,
      });
    }
    return undefined;
  }
  const value = request.cfgScale ?? CFG_DEFAULT;
  const mapped = mapCfg(value, model.cfg);
  if (request.cfgScale !== undefined) {
    report.push({
      param: 'cfgScale',
      status: 'native',
      requested: request.cfgScale,
      sent: mapped,
      note: `${model.cfg.param} ${mapped} on the native ${model.cfg.min}–${model.cfg.max} scale (default ${model.cfg.default})`,
    });
  }
  return mapped;
}

function planSteps(
  request: GenerateRequest,
  model: ModelEntry,
  report: ReportLine[],
): { steps?: number; tier?: string } {
  const spec = model.steps;
  if (!spec) {
    if (request.steps !== undefined)
      report.push({
        param: 'steps',
        status: 'dropped',
        requested: request.steps,
        note: `${model.id} takes no step count`,
      });
    if (request.quality !== undefined)
      report.push({
        param: 'quality',
        status: 'dropped',
        requested: request.quality,
        note: `${model.id} has no quality control`,
      });
    return {};
  }
  if (spec.kind === 'range') {
    if (request.steps !== undefined) {
      const steps = clamp(request.steps, spec.min, spec.max);
      report.push({
        param: 'steps',
        status: steps === request.steps ? 'native' : 'adjusted',
        requested: request.steps,
        sent: steps,
        note: steps === request.steps ? `${steps} steps` : `clamped to ${model.id}'s ${spec.min}–${spec.max}`,
      });
      if (request.quality !== undefined) {
        report.push({
          param: 'quality',
          status: 'dropped',
          requested: request.quality,
          note: 'explicit steps take precedence',
        });
      }
      return { steps };
    }
    if (request.quality !== undefined) {
      const steps = stepsForQuality(request.quality, spec);
      report.push({
        param: 'quality',
        status: 'native',
        requested: request.quality,
        sent: steps,
        note: `${steps} steps`,
      });
      return { steps };
    }
    return { steps: spec.default };
  }
  if (request.quality !== undefined) {
    const tier = spec.tiers[request.quality];
    report.push({
      param: 'quality',
      status: 'native',
      requested: request.quality,
      sent: tier,
      note: `${spec.param} "${tier}"`,
    });
    if (request.steps !== undefined) {
      report.push({
        param: 'steps',
        status: 'dropped',
        requested: request.steps,
        note: `${model.id} uses quality tiers; quality takes precedence`,
      });
    }
    return { tier };
  }
  if (request.steps !== undefined) {
    const quality = qualityForSteps(request.steps);
    const tier = spec.tiers[quality];
    report.push({
      param: 'steps',
      status: 'adjusted',
      requested: request.steps,
      sent: tier,
      note: `${model.id} has quality tiers, not steps: ${request.steps} steps → ${spec.param} "${tier}"`,
    });
    return { tier };
  }
  return { tier: spec.default };
}

function planSeed(
  request: GenerateRequest,
  model: ModelEntry,
  report: ReportLine[],
  options: TranslateOptions,
): number | undefined {
  if (!model.seed) {
    if (request.seed !== undefined) {
      report.push({
        param: 'seed',
        status: 'dropped',
        requested: request.seed,
        note: `${model.id} does not take a seed; the image cannot be reproduced exactly`,
      });
    }
    return undefined;
  }
  if (request.seed === undefined) {
    const { lo, hi } = usableRange(model.seed);
    const chosen = (options.randomSeed ?? defaultRandomSeed)(lo, hi);
    report.push({
      param: 'seed',
      status: 'native',
      sent: chosen,
      note: 'none given: Pixel chose one and recorded it, so the image can be made again',
    });
    return chosen;
  }
  const sent = fitSeed(request.seed, model.seed);
  report.push({
    param: 'seed',
    status: sent === request.seed ? 'native' : 'adjusted',
    requested: request.seed,
    sent,
    note:
      sent === request.seed
        ? `seed ${sent}`
        : request.seed === 0 && model.seed.zeroMeansRandom
          ? `${model.id} treats 0 as "random"; sent ${sent} instead`
          : `outside ${model.id}'s seed range ${model.seed.min}–${model.seed.max}; folded to ${sent}`,
  });
  return sent;
}

function defaultRandomSeed(lo: number, hi: number): number {
  return lo + randomInt(0, Math.min(hi - lo + 1, 2 ** 47));
}

function planProviderOptions(
  request: GenerateRequest,
  model: ModelEntry,
  managed: readonly string[],
  allowed: Readonly<Record<string, string>>,
  report: ReportLine[],
): Record<string, unknown> | undefined {
  if (!request.providerOptions) return undefined;
  let out: Record<string, unknown> | undefined;
  for (const [provider, fields] of Object.entries(request.providerOptions)) {
    if (provider !== model.provider) {
      report.push({
        param: `providerOptions.${provider}`,
        status: 'dropped',
        note: `applies to ${provider}, not to ${model.id}`,
      });
      continue;
    }
    for (const [key, value] of Object.entries(fields)) {
      const field = `providerOptions.${provider}.${key}`;
      if (managed.includes(key)) {
        throw invalidArgument(
          field,
          `${field} is set by Pixel from the unified parameters; use those instead`,
        );
      }
      const type = allowed[key];
      if (type === undefined) {
        const known = Object.keys(allowed);
        throw invalidArgument(
          field,
          `${field} is not a field Pixel passes to ${model.id}${known.length ? `; allowed: ${known.join(', ')}` : ''}`,
        );
      }
      if (!matchesType(value, type))
        throw invalidArgument(field, `${field} must be a ${type}, got ${JSON.stringify(value)}`);
      out ??= {};
      out[key] = value;
      report.push({ param: field, status: 'native', sent: value, note: 'passed through as given' });
    }
  }
  return out;
}

function matchesType(value: unknown, type: string): boolean {
  if (type === 'array') return Array.isArray(value);
  if (type === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
  return typeof value === type;
}

/** Where pass-through fields go in a body whose native fields are nested. */
function passthroughTarget(body: Record<string, unknown>, model: ModelEntry): Record<string, unknown> {
  const nested = NESTED_FIELDS[model.transport];
  if (!nested) return body;
  const target = body[nested];
  if (typeof target === 'object' && target !== null) return target as Record<string, unknown>;
  return body;
}

const NESTED_FIELDS: Partial<Record<ModelEntry['transport'], string>> = {
  replicate: 'input',
  'vertex-imagen': 'parameters',
  'bedrock-titan': 'imageGenerationConfig',
  'bedrock-nova': 'imageGenerationConfig',
  gemini: 'generationConfig',
};

function enforceStrict(model: ModelEntry, report: ReportLine[]): void {
  const failing = report.filter((line) => line.status === 'dropped' || line.status === 'emulated');
  if (failing.length === 0) return;
  const first = failing[0]!;
  const field =
    first.param === 'size'
      ? first.requested && String(first.requested).includes('x')
        ? 'width'
        : 'aspectRatio'
      : first.param;
  const hint = failing.some((l) => l.param === 'size')
    ? ' (for size, fit: "native" accepts the nearest native size)'
    : '';
  throw new PixelError({
    code: 'failed_precondition',
    reason: 'unsupported_parameter',
    field,
    message: `${model.id} cannot honour ${failing.map((l) => `${l.param} (${l.status}: ${l.note})`).join('; ')}; onUnsupported is "error"${hint}`,
  });
}
