import { type Catalog, defaultCatalog } from '../models/catalog.ts';
import type { ModelEntry } from '../models/schema.ts';
import { invalidArgument, PixelError } from '../protocol/errors.ts';
import {
  type GenerateRequest,
  type GenerateRequestInput,
  parseGenerateRequest,
} from '../protocol/request.ts';
import { BODY_BUILDERS } from './native/index.ts';
import { planCfg, planSeed, planSteps } from './plan-controls.ts';
import { planBackground, planFormat } from './plan-output.ts';
import { passthroughTarget, planProviderOptions } from './plan-provider-options.ts';
import { planSize } from './plan-size.ts';
import { estimateCost } from './price.ts';
import { assemblePrompt } from './prompt.ts';
import { nthSeed } from './seed.ts';
import { enforceStrict } from './strict.ts';
import { STYLE_FRAGMENTS } from './style-fragments.ts';
import type { CallPlan, DeliveryPlan, NativeInputs, ReportLine, Translation } from './types.ts';

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

  // Prompt, negative prompt, style: the prompt may gain a style sentence and an "Avoid" sentence,
  // always in that order after the subject.
  let negativePrompt: string | undefined;
  let avoid: string | undefined;
  if (request.negativePrompt) {
    const emulation = model.negativeEmulation ?? { mode: 'clause' as const };
    if (model.negativePrompt) {
      negativePrompt = request.negativePrompt;
      report.push({
        param: 'negativePrompt',
        status: 'native',
        sent: negativePrompt,
        note: 'sent as the native negative prompt',
      });
    } else if (emulation.mode === 'clause') {
      avoid = request.negativePrompt;
      report.push({
        param: 'negativePrompt',
        status: 'emulated',
        requested: request.negativePrompt,
        note: `${model.id} has no negative prompt; added to the end of the prompt as an "Avoid: …" sentence`,
      });
    } else {
      report.push({
        param: 'negativePrompt',
        status: 'dropped',
        requested: request.negativePrompt,
        note: `${model.id} has no negative prompt and an "Avoid" sentence would not help: ${emulation.reason}`,
      });
    }
  }
  let style: string | undefined;
  let styleFragment: string | undefined;
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
      styleFragment = STYLE_FRAGMENTS[request.style];
      report.push({
        param: 'style',
        status: 'emulated',
        requested: request.style,
        note: `${model.id} has no native "${request.style}" preset; added a style sentence after the subject`,
      });
    }
  }
  const prompt = assemblePrompt({ subject: request.prompt, style: styleFragment, avoid });
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

  planPromptRewriter(request, model, report);

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
    // A fine-tune's LoRA (ComfyUI's LoraLoader, fal's `loras`).
    ...(model.lora && { lora: model.lora }),
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

/** Says whether the provider will rewrite the prompt (Imagen's enhancePrompt, fal's enhance_prompt, …). */
function planPromptRewriter(request: GenerateRequest, model: ModelEntry, report: ReportLine[]): void {
  const rewriter = model.promptRewriter;
  if (!rewriter) return;
  const given = request.providerOptions?.[model.provider]?.[rewriter.field];
  const option = `providerOptions.${model.provider}.${rewriter.field}`;
  const on = typeof given === 'boolean' ? given : rewriter.default;
  const how = on ? 'rewrites the prompt before generating' : 'uses the prompt as written';
  report.push({
    param: 'promptRewrite',
    status: 'native',
    ...(typeof given === 'boolean' && { requested: given }),
    sent: on,
    note:
      typeof given === 'boolean'
        ? `${rewriter.field} ${given} from ${option}: ${model.id} ${how}`
        : `${rewriter.field} not sent: ${model.id} ${how} by default (set ${option} to ${!on} to change it)`,
  });
}
