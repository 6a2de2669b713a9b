import type { Command } from 'commander';

/** One top-level command: its name and summary for `pixel --help`, and the module that registers it. */
export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<(program: Command) => void>;
}

/**
 * Every `pixel` command. A command's module (and everything it imports: providers, the database, the server)
 * is loaded only when that command runs, so `pixel generate` does not pay for `pixel serve`.
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'generate',
    summary: 'generate images, store them in the catalogue (img_… ids) and optionally write copies',
    load: async () => (await import('./commands/generate.ts')).registerGenerate,
  },
  {
    name: 'translate',
    summary: 'show the native request(s) and the translation report, without generating',
    load: async () => (await import('./commands/translate.ts')).registerTranslate,
  },
  {
    name: 'models',
    summary: 'list the model catalogue with capabilities and status',
    load: async () => (await import('./commands/models.ts')).registerModels,
  },
  {
    name: 'images',
    summary: 'stored images: list (with filters), get, delete',
    load: async () => (await import('./commands/images.ts')).registerImages,
  },
  {
    name: 'serve',
    summary: 'run the Pixel service (Connect, gRPC, OpenAI-compatible REST, files, health, metrics)',
    load: async () => (await import('./commands/serve.ts')).registerServe,
  },
  {
    name: 'keys',
    summary: 'manage API keys (stored as hashes; each bound to a team and a role)',
    load: async () => (await import('./commands/keys.ts')).registerKeys,
  },
  {
    name: 'export',
    summary: 'export the image catalogue to other systems',
    load: async () => (await import('./commands/export.ts')).registerExport,
  },
  {
    name: 'sweep',
    summary: 'remove orphan blobs (no catalogue row) older than the grace period',
    load: async () => (await import('./commands/sweep.ts')).registerSweep,
  },
  {
    name: 'apps',
    summary: 'application profiles: templates, defaults, versions and labels',
    load: async () => (await import('./commands/apps.ts')).registerApps,
  },
  {
    name: 'datasets',
    summary: 'datasets of items (CSV or JSONL) for experiments and production runs',
    load: async () => (await import('./commands/datasets.ts')).registerDatasets,
  },
  {
    name: 'experiments',
    summary: 'compare candidate models on a sample of a dataset, then rank them',
    load: async () => (await import('./commands/experiments.ts')).registerExperiments,
  },
  {
    name: 'runs',
    summary: 'production runs: an application and its model over a whole dataset',
    load: async () => (await import('./commands/runs.ts')).registerRuns,
  },
  {
    name: 'worker',
    summary: 'run a batch worker (takes jobs from the catalogue database)',
    load: async () => (await import('./commands/worker.ts')).registerWorker,
  },
  {
    name: 'usage',
    summary: 'usage and cost per team, application, model and run; team budgets',
    load: async () => (await import('./commands/usage.ts')).registerUsage,
  },
  {
    name: 'review',
    summary: 'human review of quality-gate results: list, approve, reject, rate',
    load: async () => (await import('./commands/review.ts')).registerReview,
  },
  {
    name: 'judges',
    summary: 'judge–human agreement: report from reviews, calibrate on a rating file',
    load: async () => (await import('./commands/judges.ts')).registerJudges,
  },
  {
    name: 'finetune',
    summary: 'fine-tuned models per product category: datasets, training, evaluation, promotion',
    load: async () => (await import('./commands/finetune.ts')).registerFinetune,
  },
  {
    name: 'questions',
    summary: "the quality gate's questions for an item: show, or replace them with the team's edit",
    load: async () => (await import('./commands/questions.ts')).registerQuestions,
  },
];

/**
 * The command a command line runs (or asks help for, as in `pixel help generate`): the first word that is not
 * an option (the program itself takes no options but --help, which runs no command).
 */
export function commandNamed(argv: readonly string[]): CommandEntry | undefined {
  const words = argv.filter((arg) => !arg.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return COMMANDS.find((entry) => entry.name === name);
}
