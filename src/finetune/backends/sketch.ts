import { learnTune, measureLook } from '../learn.ts';
import type { TrainingBackend, TrainingContext, TrainingStatus } from './types.ts';

/** Training steps done per poll: a 1,000-step training takes four looks, so progress and cancel are visible. */
const STEPS_PER_POLL = 250;

/**
 * `pixel/sketch-tune`, the offline backend. It is a placeholder, not training: no weights are learned.
 * It measures the dataset's subject colours, backdrop and proportions, and `pixel/sketch` then draws in
 * them. It exists so the whole fine-tune lifecycle (dataset, training with progress and cancel,
 * evaluation, promotion, routing) runs with no keys and no network, in tests and demos.
 */
export function createSketchTuneBackend(): TrainingBackend {
  return {
    name: 'sketch',
    supportsBase: (modelId) => modelId === 'pixel/sketch',
    async submit(context) {
      return { kind: 'sketch-tune', stepsDone: 0, steps: context.job.params.steps };
    },
    async poll(context: TrainingContext, external): Promise<TrainingStatus> {
      const steps = Number(external.steps ?? context.job.params.steps);
      const done = Math.min(steps, Number(external.stepsDone ?? 0) + STEPS_PER_POLL);
      const next = { ...external, stepsDone: done };
      if (done < steps) return { state: 'running', progress: done / steps, external: next };
      const looks = await Promise.all((await context.images()).map((bytes) => measureLook(bytes)));
      const learned = learnTune(looks, steps);
      return {
        state: 'succeeded',
        external: next,
        weights: {
          kind: 'sketch-tune',
          tune: learned.tune,
          ...(learned.subjectColour !== undefined && { subjectColour: learned.subjectColour }),
          backgroundColour: learned.backgroundColour,
        },
      };
    },
    async cancel() {
      // Nothing runs between polls: the runner marks the job cancelled.
    },
  };
}
