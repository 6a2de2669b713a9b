import { randomInt } from 'node:crypto';
import type { ModelEntry } from '../models/schema.ts';
import { CFG_DEFAULT, type GenerateRequest } from '../protocol/request.ts';
import { planGuidance } from './cfg.ts';
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
  const { mapped, sent, clamped } = planGuidance(value, model.cfg);
  const useful = model.cfg.useful!;
  const family = `${model.cfg.family} guidance ${useful.min}–${useful.default}–${useful.max}`;
  if (clamped) {
    report.push({
      param: 'cfgScale',
      status: 'adjusted',
      requested: value,
      sent,
      note: `${mapped} on the ${family}; clamped to ${sent}, the ${model.cfg.min}–${model.cfg.max} ${model.id} accepts for ${model.cfg.param}`,
    });
  } else if (request.cfgScale !== undefined) {
    report.push({
      param: 'cfgScale',
      status: 'native',
      requested: request.cfgScale,
      sent,
      note: `${model.cfg.param} ${sent} on the ${family} (the same on every host of these weights)`,
    });
  }
  return sent;
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
