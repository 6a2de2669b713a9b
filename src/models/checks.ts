import type { YamlPath } from './load.ts';
import type { ModelEntry } from './schema.ts';

/** A consistency problem the schema alone cannot see; `path` is relative to the entry. */
export interface EntryProblem {
  path: YamlPath;
  message: string;
}

/** Facts that must hold between fields of one entry (defaults inside ranges, and so on). */
export function checkEntry(entry: ModelEntry): EntryProblem[] {
  const problems: EntryProblem[] = [];
  const fail = (path: YamlPath, message: string) => problems.push({ path, message });

  if (!entry.id.startsWith(`${entry.provider}/`)) fail(['id'], `must start with "${entry.provider}/"`);
  if (!entry.formats.includes(entry.defaultFormat)) {
    fail(['defaultFormat'], `"${entry.defaultFormat}" is not in formats [${entry.formats.join(', ')}]`);
  }
  if (entry.transparentBackground && !entry.formats.some((f) => f === 'png' || f === 'webp')) {
    fail(['transparentBackground'], 'needs png or webp among formats');
  }
  if (entry.cfg && !(entry.cfg.min <= entry.cfg.default && entry.cfg.default <= entry.cfg.max)) {
    fail(['cfg'], `needs min <= default <= max, got ${entry.cfg.min}/${entry.cfg.default}/${entry.cfg.max}`);
  }
  const steps = entry.steps;
  if (steps?.kind === 'range' && !(steps.min <= steps.default && steps.default <= steps.max)) {
    fail(['steps'], `needs min <= default <= max, got ${steps.min}/${steps.default}/${steps.max}`);
  }
  if (steps?.kind === 'tiers' && !Object.values(steps.tiers).includes(steps.default)) {
    fail(['steps', 'default'], `"${steps.default}" is not one of the tier values`);
  }
  if (entry.seed && entry.seed.min > entry.seed.max) fail(['seed'], 'needs min <= max');
  if (!entry.negativePrompt && !entry.negativeEmulation) {
    fail(
      ['negativeEmulation'],
      'is required when negativePrompt is false: { mode: clause } or { mode: drop, reason }',
    );
  }
  if (entry.negativePrompt && entry.negativeEmulation) {
    fail(['negativeEmulation'], 'applies only to models without a native negative prompt');
  }
  problems.push(...checkSizes(entry));
  return problems;
}

function checkSizes(entry: ModelEntry): EntryProblem[] {
  const sizes = entry.sizes;
  const problems: EntryProblem[] = [];
  if (sizes.kind === 'list') {
    const { width, height } = sizes.default;
    if (!sizes.sizes.some((s) => s.width === width && s.height === height)) {
      problems.push({ path: ['sizes', 'default'], message: `${width}x${height} is not in sizes` });
    }
  } else if (sizes.kind === 'ratios') {
    if (!sizes.ratios.some((r) => r.ratio === sizes.default)) {
      problems.push({ path: ['sizes', 'default'], message: `"${sizes.default}" is not among the ratios` });
    }
  } else {
    if (sizes.minSide > sizes.maxSide)
      problems.push({ path: ['sizes'], message: 'needs minSide <= maxSide' });
    const check = (path: YamlPath, w: number, h: number) => {
      const why = freeSizeViolation(sizes, w, h);
      if (why) problems.push({ path, message: `${w}x${h} ${why}` });
    };
    check(['sizes', 'default'], sizes.default.width, sizes.default.height);
    for (const [name, s] of Object.entries(sizes.presets ?? {}))
      check(['sizes', 'presets', name], s.width, s.height);
  }
  return problems;
}

type FreeSizes = Extract<ModelEntry['sizes'], { kind: 'free' }>;

/** Why width×height breaks a free-size spec, or undefined when it fits. */
export function freeSizeViolation(spec: FreeSizes, width: number, height: number): string | undefined {
  if (width % spec.multipleOf !== 0 || height % spec.multipleOf !== 0) {
    return `is not a multiple of ${spec.multipleOf}`;
  }
  if (Math.min(width, height) < spec.minSide || Math.max(width, height) > spec.maxSide) {
    return `has a side outside ${spec.minSide}-${spec.maxSide}`;
  }
  if (spec.maxPixels !== undefined && width * height > spec.maxPixels)
    return `exceeds ${spec.maxPixels} pixels`;
  const aspect = width / height;
  if (spec.minAspect !== undefined && aspect < spec.minAspect) return `is narrower than ${spec.minAspect}`;
  if (spec.maxAspect !== undefined && aspect > spec.maxAspect) return `is wider than ${spec.maxAspect}`;
  return undefined;
}
