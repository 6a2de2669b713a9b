import { PixelError } from '../../protocol/errors.ts';
import { trainingHttpError } from './http-error.ts';
import type { TrainingBackend, TrainingContext, TrainingStatus } from './types.ts';

export interface ReplicateTrainingConfig {
  baseUrl: string;
  token: string;
  /** The account that owns the destination models (`<owner>/<fine-tune name>`, created when missing). */
  owner: string;
  /** The trainer model; its latest version is used. */
  trainer: string;
  /** Hardware of a destination model Pixel creates. */
  hardware: string;
  fetch?: typeof fetch;
}

/** Base models the flux-dev LoRA trainer fine-tunes (its results run like flux-dev, on Replicate). */
const BASES = new Set(['replicate/black-forest-labs/flux-dev']);

/**
 * Replicate trainings: the dataset zip is uploaded (`POST /files`), the destination model created if it
 * does not exist, and a training started on the trainer's latest version; each look reads the training,
 * with progress from its logs. The result is a new version of the destination, run as `owner/name:version`
 * with the trigger word in the prompt.
 */
export function createReplicateTrainingBackend(config: ReplicateTrainingConfig): TrainingBackend {
  const doFetch = config.fetch ?? fetch;
  const api = async (method: string, path: string, body?: BodyInit, type = 'application/json') => {
    let res: Response;
    try {
      res = await doFetch(`${config.baseUrl.replace(/\/$/, '')}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${config.token}`,
          ...(body !== undefined && type && { 'content-type': type }),
        },
        ...(body !== undefined && { body }),
      });
    } catch (error) {
      // Unreachable for now: the next look tries again.
      throw new PixelError({
        code: 'unavailable',
        provider: 'replicate',
        retryable: true,
        message: `Replicate could not be reached (${error instanceof Error ? error.message : String(error)})`,
      });
    }
    const text = await res.text();
    let data: Record<string, unknown> = {};
    try {
      data = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      // not JSON: reported below by status
    }
    return { status: res.status, data };
  };
  const fail = (what: string, r: { status: number; data: Record<string, unknown> }) =>
    trainingHttpError(
      r.status,
      `Replicate ${what} answered ${r.status}: ${String(r.data.detail ?? r.data.title ?? 'no detail')}`,
      'replicate',
    );

  return {
    name: 'replicate',
    supportsBase: (modelId) => BASES.has(modelId),
    async submit(context: TrainingContext) {
      const { job } = context;
      const destination = `${config.owner}/${job.name}`;
      const existing = await api('GET', `/models/${destination}`);
      if (existing.status === 404) {
        const created = await api(
          'POST',
          '/models',
          JSON.stringify({
            owner: config.owner,
            name: job.name,
            visibility: 'private',
            hardware: config.hardware,
          }),
        );
        if (created.status !== 201 && created.status !== 409) throw fail('model create', created);
      } else if (existing.status !== 200) throw fail('model read', existing);
      const trainer = await api('GET', `/models/${config.trainer}`);
      const version = (trainer.data.latest_version as { id?: string } | null | undefined)?.id;
      if (trainer.status !== 200 || !version) throw fail(`trainer ${config.trainer} read`, trainer);
      const form = new FormData();
      form.append(
        'content',
        new Blob([new Uint8Array(await context.zip())], { type: 'application/zip' }),
        `${job.name}.zip`,
      );
      const file = await api('POST', '/files', form, '');
      const url = (file.data.urls as { get?: string } | undefined)?.get;
      if (file.status !== 201 || !url) throw fail('file upload', file);
      const input = {
        input_images: url,
        trigger_word: job.trigger,
        steps: job.params.steps,
        autocaption: job.params.autocaption ?? !context.dataset.images.some((i) => i.caption),
        ...(job.params.loraRank !== undefined && { lora_rank: job.params.loraRank }),
        ...(job.params.learningRate !== undefined && { learning_rate: job.params.learningRate }),
      };
      const started = await api(
        'POST',
        `/models/${config.trainer}/versions/${version}/trainings`,
        JSON.stringify({ destination, input }),
      );
      if (started.status !== 201 || typeof started.data.id !== 'string')
        throw fail('training create', started);
      return { trainingId: started.data.id, destination, trainerVersion: version };
    },
    async poll(_context, external): Promise<TrainingStatus> {
      const r = await api('GET', `/trainings/${String(external.trainingId)}`);
      if (r.status !== 200) throw fail('training read', r);
      const status = String(r.data.status);
      if (status === 'succeeded') {
        const output = r.data.output as { version?: string; weights?: string } | null;
        if (!output?.version)
          return {
            state: 'failed',
            error: 'Replicate training succeeded without an output version',
            external,
          };
        return {
          state: 'succeeded',
          external,
          weights: {
            kind: 'replicate-version',
            version: output.version,
            ...(output.weights && { weightsUrl: output.weights }),
          },
        };
      }
      if (status === 'failed')
        return {
          state: 'failed',
          error: `Replicate training failed: ${String(r.data.error ?? 'no error given')}`,
          external,
        };
      if (status === 'canceled') return { state: 'cancelled', external };
      const percents = [...String(r.data.logs ?? '').matchAll(/(\d{1,3})%\|/g)];
      const last = percents.at(-1)?.[1];
      return {
        state: 'running',
        progress: last === undefined ? 0 : Math.min(1, Number(last) / 100) * 0.99,
        external,
      };
    },
    async cancel(_context, external) {
      const r = await api('POST', `/trainings/${String(external.trainingId)}/cancel`);
      if (r.status !== 200) throw fail('training cancel', r);
    },
  };
}

/** The backend from the environment: REPLICATE_API_TOKEN and PIXEL_REPLICATE_TRAINING_OWNER both set. */
export function replicateTrainingFromEnv(env: NodeJS.ProcessEnv): TrainingBackend | undefined {
  const token = env.REPLICATE_API_TOKEN?.trim();
  const owner = env.PIXEL_REPLICATE_TRAINING_OWNER?.trim();
  if (!token || !owner) return undefined;
  return createReplicateTrainingBackend({
    baseUrl: env.REPLICATE_BASE_URL?.trim() || 'https://api.replicate.com/v1',
    token,
    owner,
    trainer: env.PIXEL_REPLICATE_TRAINER?.trim() || 'ostris/flux-dev-lora-trainer',
    hardware: env.PIXEL_REPLICATE_TRAINING_HARDWARE?.trim() || 'gpu-t4',
  });
}
