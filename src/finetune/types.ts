import type { SketchTune } from '../sketch/scene.ts';

export const FINETUNE_STATES = [
  'queued',
  'training',
  'evaluating',
  'succeeded',
  'failed',
  'cancelled',
] as const;
export type FinetuneState = (typeof FINETUNE_STATES)[number];
export const TERMINAL_STATES: ReadonlySet<FinetuneState> = new Set(['succeeded', 'failed', 'cancelled']);

export const BACKENDS = ['sketch', 'replicate', 'fal', 'self-hosted', 'import'] as const;
export type BackendName = (typeof BACKENDS)[number];
/** Backends that answer at once (nothing trains at a provider): their jobs are looked at again without waiting. */
export const INSTANT_BACKENDS: ReadonlySet<BackendName> = new Set(['sketch', 'import']);

/** What inference needs from a finished training, by backend. */
export type Weights =
  | {
      kind: 'sketch-tune';
      tune: SketchTune;
      /** The dataset's dominant subject colour and backdrop colour names. */
      subjectColour?: string;
      backgroundColour: string;
    }
  | {
      /** A new version of a Replicate destination model: run as `owner/name:version`. */
      kind: 'replicate-version';
      version: string;
      weightsUrl?: string;
    }
  | {
      /**
       * A LoRA trained on fal: its safetensors URL, run through fal's LoRA endpoint for the base
       * (`fal-ai/flux-lora` or `fal-ai/flux-2/lora`) as `loras: [{ path: url, scale }]`.
       */
      kind: 'fal-lora';
      endpoint: string;
      url: string;
      scale: number;
      configUrl?: string;
    }
  | {
      /** A LoRA file on a self-hosted box, loaded by name (AUTOMATIC1111 `<lora:name:1>`). */
      kind: 'lora-file';
      loraName: string;
      loraUrl?: string;
    };

/** What the evaluation asks about: the dataset's dominant subject colour and backdrop colour names. */
export interface DatasetLook {
  subjectColour?: string;
  backgroundColour: string;
}

export interface TrainingParams {
  steps: number;
  [key: string]: unknown;
}

/** One pairwise comparison: the fine-tune's image against the base's for the same prompt and seed. */
export interface PairwiseComparison {
  /** P(the fine-tune's image is the better one), averaged over both presentation orders. */
  pFinetune: number;
  winner: 'finetune' | 'base' | 'tie';
  /** Both orders chose the same image. */
  consistent: boolean;
  /** How much the judge favoured whichever image it saw first (mean P(first) − 0.5). */
  positionBias: number;
}

/** The pairwise part of an evaluation: the judge compared each pair of images, in both orders. */
export interface PairwiseReport {
  judge: string;
  /** What "better" meant: the evaluation's questions. */
  criteria: string[];
  wins: { finetune: number; base: number; tie: number };
  /** (fine-tune wins + ties / 2) / comparisons. */
  winRate: number;
  /** The win rate promotion needs. */
  minWinRate: number;
  costUsd: number;
}

/** The kept report of fine-tune vs base on held-out prompts. */
export interface EvaluationReport {
  judge: string;
  baseModel: string;
  model: string;
  margin: number;
  prompts: Array<{
    prompt: string;
    seed: number;
    base: number;
    finetune: number;
    /** By score: which one matched more questions on this prompt. */
    winner: 'finetune' | 'base' | 'tie';
    /** The pairwise judge's comparison of the two images (absent when pairwise was not run). */
    pair?: PairwiseComparison;
  }>;
  questions: string[];
  baseScore: number;
  finetuneScore: number;
  /** Per-prompt winners by score. */
  wins: { finetune: number; base: number; tie: number };
  /** Absent when no judge here can compare pairs (the rule is then the margin alone). */
  pairwise?: PairwiseReport;
  /** Judge spend of the whole evaluation (USD; 0 offline). */
  costUsd?: number;
  passed: boolean;
  verdict: string;
}

export interface Finetune {
  id: string;
  team: string;
  name: string;
  version: number;
  datasetId: string;
  category: string;
  baseModel: string;
  backend: BackendName;
  trigger: string;
  classNoun: string;
  params: TrainingParams;
  state: FinetuneState;
  progress: number;
  external: Record<string, unknown> | null;
  weights: Weights | null;
  evaluation: EvaluationReport | null;
  promoted: boolean;
  cancelRequested: boolean;
  error: string | null;
  createdMs: number;
  updatedMs: number;
}

/** `ft/<name>` (the promoted version) or `ft/<name>/v<N>` (one version). */
export function finetuneModelId(name: string, version?: number): string {
  return version === undefined ? `ft/${name}` : `ft/${name}/v${version}`;
}
