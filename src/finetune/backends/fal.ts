import { unzipSync, zipSync } from 'fflate';
import { PixelError } from '../../protocol/errors.ts';
import { fastApiMessage } from '../../providers/common/fastapi.ts';
import { DEFAULT_FAL_QUEUE_BASE_URL } from '../../providers/fal/index.ts';
import {
  FalLogSchema,
  FalTrainingOutputSchema,
  FalUploadInitiateSchema,
} from '../../providers/fal/trainings-wire.ts';
import { QueueStatusSchema, QueueSubmitSchema } from '../../providers/fal/wire.ts';
import { insertTrigger } from '../registry.ts';
import type { Finetune } from '../types.ts';
import { trainingHttpError } from './http-error.ts';
import type { TrainingBackend, TrainingContext, TrainingStatus } from './types.ts';

export const DEFAULT_FAL_REST_BASE_URL = 'https://rest.fal.ai';

/** One fal trainer: which base it fine-tunes, the LoRA endpoint its result runs on, and its input. */
export interface FalTrainer {
  app: string;
  base: string;
  loraEndpoint: string;
  /** Whether images without a caption file get one ("a photo of TOK <class>") once any image has one. */
  fillCaptions: boolean;
  input(job: Finetune, zipUrl: string): Record<string, unknown>;
}

/** The two trainers: FLUX.1 [dev] fast LoRA training, and the FLUX.2 [dev] trainer (priced per step). */
/** Looks at a completed training's result that answer 5xx before the job fails. */
const RESULT_LOOKS = 3;

export const FAL_TRAINERS: readonly FalTrainer[] = [
  {
    app: 'fal-ai/flux-lora-fast-training',
    base: 'fal/fal-ai/flux/dev',
    loraEndpoint: 'fal-ai/flux-lora',
    // With captions in the archive fal does not use trigger_word, so every caption must carry it.
    fillCaptions: true,
    input: (job, zipUrl) => ({
      images_data_url: zipUrl,
      trigger_word: job.trigger,
      // A subject (a product), not a style, unless asked: fal then masks and captions the subject itself.
      is_style: job.params.isStyle === true,
      steps: job.params.steps,
    }),
  },
  {
    app: 'fal-ai/flux-2-trainer',
    base: 'fal/fal-ai/flux-2',
    loraEndpoint: 'fal-ai/flux-2/lora',
    fillCaptions: false,
    input: (job, zipUrl) => ({
      image_data_url: zipUrl,
      steps: job.params.steps,
      // No trigger word here: images without a caption file train on this caption, which carries it.
      default_caption: `a photo of ${job.trigger} ${job.classNoun}`,
      ...(typeof job.params.learningRate === 'number' && { learning_rate: job.params.learningRate }),
    }),
  },
];

export interface FalTrainingConfig {
  apiKey: string;
  /** `https://queue.fal.run` in production. */
  queueBaseURL: string;
  /** `https://rest.fal.ai` in production (storage uploads). */
  restBaseURL: string;
  fetch?: typeof fetch;
}

const PROVIDER = 'fal';

/**
 * fal trainings through the queue API: the dataset zip goes to fal's storage (its `file_url` is what the
 * trainer downloads), the trainer is submitted to `{queue}/<app>`, each look reads the returned
 * `status_url?logs=1` (progress from the training's log), and a completed request's `response_url` holds
 * the LoRA (`diffusers_lora_file.url`) or the trainer's error. Cancel is `PUT cancel_url`. The trainer is
 * chosen by the base model: FLUX.1 [dev] → flux-lora-fast-training, FLUX.2 [dev] → flux-2-trainer.
 */
export function createFalTrainingBackend(config: FalTrainingConfig): TrainingBackend {
  const doFetch = config.fetch ?? fetch;
  const queueBase = config.queueBaseURL.replace(/\/+$/, '');
  const restBase = config.restBaseURL.replace(/\/+$/, '');

  const call = async (
    url: string,
    init: { method: string; body?: BodyInit; type?: string; auth?: boolean },
  ): Promise<{ status: number; data: unknown }> => {
    let res: Response;
    try {
      res = await doFetch(url, {
        method: init.method,
        headers: {
          ...(init.auth !== false && { authorization: `Key ${config.apiKey}` }),
          ...(init.type && { 'content-type': init.type }),
          accept: 'application/json',
        },
        ...(init.body !== undefined && { body: init.body }),
      });
    } catch (error) {
      throw new PixelError({
        code: 'unavailable',
        provider: PROVIDER,
        retryable: true,
        message: `fal could not be reached (${error instanceof Error ? error.message : String(error)})`,
      });
    }
    const text = await res.text();
    let data: unknown = text;
    try {
      data = text ? JSON.parse(text) : {};
    } catch {
      // not JSON: kept as text
    }
    return { status: res.status, data };
  };
  const json = (body: unknown) => ({ body: JSON.stringify(body), type: 'application/json' });
  const detail = (data: unknown) =>
    fastApiMessage(data) ?? (typeof data === 'string' ? data.slice(0, 300) : 'no detail');
  const fail = (what: string, r: { status: number; data: unknown }) =>
    trainingHttpError(r.status, `fal ${what} answered ${r.status}: ${detail(r.data)}`, PROVIDER);
  const trainerFor = (base: string) => FAL_TRAINERS.find((t) => t.base === base);

  /** The zip on fal's storage: initiate (keyed), then PUT the bytes to the signed URL (no key). */
  async function upload(context: TrainingContext, trainer: FalTrainer): Promise<string> {
    const initiated = await call(`${restBase}/storage/upload/initiate?storage_type=fal-cdn-v3`, {
      method: 'POST',
      ...json({ content_type: 'application/zip', file_name: `${context.job.name}.zip` }),
    });
    const urls = FalUploadInitiateSchema.safeParse(initiated.data);
    if (initiated.status !== 200 || !urls.success) throw fail('storage upload', initiated);
    const put = await call(urls.data.upload_url, {
      method: 'PUT',
      body: new Uint8Array(triggerCaptions(await context.zip(), context.job, trainer.fillCaptions)),
      type: 'application/zip',
      auth: false,
    });
    if (put.status < 200 || put.status >= 300) throw fail('storage upload (PUT)', put);
    return urls.data.file_url;
  }

  return {
    name: 'fal',
    supportsBase: (modelId) => trainerFor(modelId) !== undefined,
    async submit(context) {
      const trainer = trainerFor(context.job.baseModel);
      if (!trainer) {
        throw new PixelError({
          code: 'invalid_argument',
          field: 'base',
          message: `the fal backend cannot fine-tune ${context.job.baseModel}`,
        });
      }
      const zipUrl = await upload(context, trainer);
      const submitted = await call(`${queueBase}/${trainer.app}`, {
        method: 'POST',
        ...json(trainer.input(context.job, zipUrl)),
      });
      const queued = QueueSubmitSchema.safeParse(submitted.data);
      if (submitted.status !== 200 || !queued.success) throw fail(`${trainer.app} submit`, submitted);
      return {
        app: trainer.app,
        loraEndpoint: trainer.loraEndpoint,
        requestId: queued.data.request_id,
        statusUrl: queued.data.status_url,
        responseUrl: queued.data.response_url,
        cancelUrl: queued.data.cancel_url,
        datasetUrl: zipUrl,
      };
    },
    async poll(_context, external): Promise<TrainingStatus> {
      const read = await call(`${String(external.statusUrl)}?logs=1`, { method: 'GET' });
      const parsed = QueueStatusSchema.safeParse(read.data);
      if (read.status !== 200 || !parsed.success) throw fail('training status', read);
      const { status } = parsed.data;
      if (status !== 'COMPLETED') {
        return { state: 'running', progress: progressOf(parsed.data.logs), external };
      }
      const url = parsed.data.response_url ?? String(external.responseUrl);
      const result = await call(url, { method: 'GET' });
      if (result.status === 429) throw fail('training result', result);
      // fal answers a request that failed on its side with the endpoint's own 5xx, for good; a gateway
      // hiccup looks the same, so a few looks are allowed (counted in the row) before the job fails.
      if (result.status >= 500) {
        const errors = Number(external.resultErrors ?? 0) + 1;
        if (errors < RESULT_LOOKS) {
          return { state: 'running', progress: 0.99, external: { ...external, resultErrors: errors } };
        }
        return {
          state: 'failed',
          error: `fal training failed: its result answered ${result.status} ${errors} times: ${detail(result.data)}`,
          external,
        };
      }
      if (result.status === 401 || result.status === 403) throw fail('training result', result);
      if (result.status !== 200) {
        return { state: 'failed', error: `fal training failed: ${detail(result.data)}`, external };
      }
      const output = FalTrainingOutputSchema.safeParse(result.data);
      if (!output.success) {
        return {
          state: 'failed',
          error: 'fal training completed without a diffusers_lora_file in its result',
          external,
        };
      }
      return {
        state: 'succeeded',
        external,
        weights: {
          kind: 'fal-lora',
          endpoint: String(external.loraEndpoint),
          url: output.data.diffusers_lora_file.url,
          scale: 1,
          ...(output.data.config_file && { configUrl: output.data.config_file.url }),
        },
      };
    },
    async cancel(_context, external) {
      const r = await call(String(external.cancelUrl), { method: 'PUT' });
      // 400 ALREADY_COMPLETED: nothing left to stop.
      if (r.status === 202 || r.status === 200) return;
      const body = r.data as { status?: unknown } | undefined;
      if (r.status === 400 && body?.status === 'ALREADY_COMPLETED') return;
      throw fail('training cancel', r);
    },
  };
}

/**
 * The dataset zip with the trigger phrase in every caption file ("a ube cake" → "a photo of TOK <class>, a ube
 * cake"), so the LoRA learns the token; with `fill`, images without a caption get "a photo of TOK <class>"
 * (only when some image has one: an archive without captions is left to the trainer's own captioning).
 */
export function triggerCaptions(zip: Uint8Array, job: Finetune, fill: boolean): Uint8Array {
  const files = unzipSync(zip);
  const names = Object.keys(files);
  if (!names.some((n) => n.endsWith('.txt'))) return zip;
  const mtime = new Date('2000-01-01T00:00:00Z');
  const out: Record<string, [Uint8Array, { mtime: Date }]> = {};
  for (const name of names) {
    const stem = name.replace(/\.[^.]+$/, '');
    if (name.endsWith('.txt')) {
      const caption = new TextDecoder().decode(files[name]!).trim();
      out[name] = [new TextEncoder().encode(insertTrigger(caption, job.trigger, job.classNoun)), { mtime }];
      continue;
    }
    out[name] = [files[name]!, { mtime }];
    if (fill && !files[`${stem}.txt`]) {
      out[`${stem}.txt`] = [
        new TextEncoder().encode(`a photo of ${job.trigger} ${job.classNoun}`),
        { mtime },
      ];
    }
  }
  return zipSync(out, { level: 6 });
}

/** The training's percentage from its latest log line with one (`Training: 40%|…`), kept under 1. */
function progressOf(logs: unknown[] | null | undefined): number {
  for (const entry of [...(logs ?? [])].reverse()) {
    const log = FalLogSchema.safeParse(entry);
    const percent = log.success ? /(\d{1,3})%\|/.exec(log.data.message)?.[1] : undefined;
    if (percent !== undefined) return Math.min(1, Number(percent) / 100) * 0.99;
  }
  return 0;
}

/** The backend from the environment: FAL_KEY set (queue and storage hosts overridable). */
export function falTrainingFromEnv(env: NodeJS.ProcessEnv): TrainingBackend | undefined {
  const apiKey = env.FAL_KEY?.trim();
  if (!apiKey) return undefined;
  return createFalTrainingBackend({
    apiKey,
    queueBaseURL: env.FAL_QUEUE_BASE_URL?.trim() || DEFAULT_FAL_QUEUE_BASE_URL,
    restBaseURL: env.FAL_REST_BASE_URL?.trim() || DEFAULT_FAL_REST_BASE_URL,
  });
}
