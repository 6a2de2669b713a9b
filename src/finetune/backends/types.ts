import type { FinetuneDataset } from '../datasets.ts';
import type { Finetune, Weights } from '../types.ts';

/** What a backend gets to start or follow a training. */
export interface TrainingContext {
  job: Finetune;
  dataset: FinetuneDataset;
  /** The dataset images' bytes, in dataset order (read on demand). */
  images(): Promise<Uint8Array[]>;
  /** The dataset as trainers take it: a zip of the images with `.txt` captions. */
  zip(): Promise<Uint8Array>;
  signal?: AbortSignal;
}

/** One look at a training: still running (with progress 0–1), or finished one way or another. */
export type TrainingStatus =
  | { state: 'running'; progress: number; external: Record<string, unknown> }
  | { state: 'succeeded'; weights: Weights; external: Record<string, unknown> }
  | { state: 'failed'; error: string; external: Record<string, unknown> }
  | { state: 'cancelled'; external: Record<string, unknown> };

/**
 * A training backend. `submit` starts a training and returns its handle (kept in the job's row, so a
 * restarted runner can follow it); `poll` looks once and may move the training on; `cancel` stops it.
 */
export interface TrainingBackend {
  readonly name: Finetune['backend'];
  /** Base models this backend can fine-tune; a start with another base is refused naming it. */
  supportsBase(modelId: string): boolean;
  /** Refuses a start's parameters this backend cannot use, naming the field (checked before the job exists). */
  checkParams?(modelId: string, params: Record<string, unknown>): void;
  submit(context: TrainingContext): Promise<Record<string, unknown>>;
  poll(context: TrainingContext, external: Record<string, unknown>): Promise<TrainingStatus>;
  cancel(context: TrainingContext, external: Record<string, unknown>): Promise<void>;
}
