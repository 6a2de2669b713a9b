import { randomInt } from 'node:crypto';
import type { ModelEntry } from '../models/schema.ts';
import { CFG_DEFAULT, type GenerateRequest } from '../protocol/request.ts';
import { mapCfg } from './cfg.ts';
import { fitSeed, usableRange } from './seed.ts';
import { clamp, qualityForSteps, stepsForQuality } from './steps.ts';
import type { ReportLine } from './types.ts';

export function planCfg(
  request: GenerateRequest,
  model: ModelEntry,
  report: ReportLine[],
): number | undefined {
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

export function planSteps(
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

export function planSeed(
  request: GenerateRequest,
  model: ModelEntry,
  report: ReportLine[],
  options: { randomSeed?: (lo: number, hi: number) => number },
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

export function defaultRandomSeed(lo: number, hi: number): number {
  return lo + randomInt(0, Math.min(hi - lo + 1, 2 ** 47));
}
