import { PixelError } from '../protocol/errors.ts';
import type { AppProfile } from './schema.ts';
import { templateVariables } from './template.ts';

export interface ProfileProblem {
  path: (string | number)[];
  message: string;
}

/** Every template with its path inside the profile. */
export function profileTemplates(profile: AppProfile): { path: (string | number)[]; template: string }[] {
  const out: { path: (string | number)[]; template: string }[] = [
    { path: ['template'], template: profile.template },
  ];
  if (profile.negativePrompt) out.push({ path: ['negativePrompt'], template: profile.negativePrompt });
  for (const [name, variant] of Object.entries(profile.variants)) {
    if (variant.template) out.push({ path: ['variants', name, 'template'], template: variant.template });
    if (variant.negativePrompt)
      out.push({ path: ['variants', name, 'negativePrompt'], template: variant.negativePrompt });
  }
  profile.rubric.forEach((q, i) => {
    out.push({ path: ['rubric', i, 'question'], template: q.question });
  });
  return out;
}

/**
 * Consistency beyond the schema: templates parse, every variable they use is declared (so a typo
 * such as `{{cutt}}` is caught when the file loads, not when an item fails), each model family has
 * at most one variant, and the defaults do not contradict each other.
 */
export function checkProfile(profile: AppProfile): ProfileProblem[] {
  const problems: ProfileProblem[] = [];
  const declared = new Set(Object.keys(profile.variables));
  for (const { path, template } of profileTemplates(profile)) {
    let names: Set<string>;
    try {
      names = templateVariables(template, path.join('.'));
    } catch (error) {
      problems.push({ path, message: (error as Error).message });
      continue;
    }
    for (const name of names) {
      if (!declared.has(name))
        problems.push({ path, message: `uses {{${name}}}, which is not declared under variables` });
    }
  }
  profile.fewShots.forEach((shot, i) => {
    for (const name of Object.keys(shot.vars)) {
      if (!declared.has(name))
        problems.push({
          path: ['fewShots', i, 'vars', name],
          message: `"${name}" is not declared under variables`,
        });
    }
  });
  if (profile.finetunes && !declared.has(profile.finetunes.categoryVar)) {
    problems.push({
      path: ['finetunes', 'categoryVar'],
      message: `"${profile.finetunes.categoryVar}" is not declared under variables`,
    });
  }
  const owner = new Map<string, string>();
  for (const [name, variant] of Object.entries(profile.variants)) {
    for (const family of variant.families) {
      const previous = owner.get(family);
      if (previous)
        problems.push({
          path: ['variants', name, 'families'],
          message: `family ${family} is already claimed by variant "${previous}"`,
        });
      owner.set(family, name);
    }
  }
  const d = profile.defaults;
  if (d.aspectRatio !== undefined && d.width !== undefined && d.height !== undefined) {
    problems.push({
      path: ['defaults', 'aspectRatio'],
      message: 'cannot be combined with both width and height',
    });
  }
  return problems;
}

/** The first problem as a PixelError (for profiles arriving through the API). */
export function assertProfile(profile: AppProfile, where = 'profile'): void {
  const problem = checkProfile(profile)[0];
  if (problem) {
    throw new PixelError({
      code: 'invalid_argument',
      reason: 'validation',
      field: `${where}.${problem.path.join('.')}`,
      message: `${where}.${problem.path.join('.')}: ${problem.message}`,
    });
  }
}
