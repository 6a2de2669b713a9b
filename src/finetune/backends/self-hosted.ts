import { PixelError } from '../../protocol/errors.ts';
import { trainingHttpError } from './http-error.ts';
import type { TrainingBackend, TrainingContext, TrainingStatus } from './types.ts';

/**
 * The self-hosted training contract: a team's own GPU box (a diffusers DreamBooth/LoRA script, ai-toolkit, …)
 * behind four HTTP calls, all JSON answers, optional `Authorization: Bearer <token>`:
 *
 * - `POST /trainings` (multipart: `config` = JSON { name, trigger, class_noun, base_model, steps, params },
 *   `dataset` = the zip of images with `.txt` captions) → 201 { id, status }
 * - `GET /trainings/{id}` → { id, status: queued | running | succeeded | failed | cancelled, progress?: 0–1,
 *   error?: text, result?: { lora_name, lora_url? } }
 * - `POST /trainings/{id}/cancel` → 200 { id, status }
 * - errors: any non-2xx with { error: text }
 *
 * The result is a LoRA the box's AUTOMATIC1111/Forge or ComfyUI loads by name: Pixel runs it on `a1111/sdxl`
 * with `<lora:lora_name:1>` added to the prompt, or on `comfyui/sdxl` with a LoraLoader node in the graph.
 */
export interface SelfHostedTrainingConfig {
  baseUrl: string;
  token?: string;
  fetch?: typeof fetch;
}

const BASES = new Set(['a1111/sdxl', 'comfyui/sdxl']);
const STATES = new Set(['queued', 'running', 'succeeded', 'failed', 'cancelled']);

export function createSelfHostedTrainingBackend(config: SelfHostedTrainingConfig): TrainingBackend {
  const doFetch = config.fetch ?? fetch;
  const api = async (method: string, path: string, body?: FormData) => {
    let res: Response;
    try {
      res = await doFetch(`${config.baseUrl.replace(/\/$/, '')}${path}`, {
        method,
        headers: config.token ? { authorization: `Bearer ${config.token}` } : {},
        ...(body && { body }),
      });
    } catch (error) {
      throw new PixelError({
        code: 'unavailable',
        retryable: true,
        message: `the self-hosted trainer could not be reached (${error instanceof Error ? error.message : String(error)})`,
      });
    }
    const data = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) {
      throw trainingHttpError(
        res.status,
        `the self-hosted trainer answered ${res.status} to ${method} ${path}: ${String(data.error ?? 'no error given')}`,
      );
    }
    return data;
  };
  return {
    name: 'self-hosted',
    supportsBase: (modelId) => BASES.has(modelId),
    async submit(context: TrainingContext) {
      const { job } = context;
      const form = new FormData();
      form.append(
        'config',
        JSON.stringify({
          name: job.name,
          trigger: job.trigger,
          class_noun: job.classNoun,
          base_model: job.baseModel,
          steps: job.params.steps,
          params: job.params,
        }),
      );
      form.append(
        'dataset',
        new Blob([new Uint8Array(await context.zip())], { type: 'application/zip' }),
        `${job.name}.zip`,
      );
      const data = await api('POST', '/trainings', form);
      if (typeof data.id !== 'string') {
        throw new PixelError({
          code: 'internal',
          message: 'the self-hosted trainer answered POST /trainings without an id',
        });
      }
      return { trainingId: data.id };
    },
    async poll(_context, external): Promise<TrainingStatus> {
      const data = await api('GET', `/trainings/${encodeURIComponent(String(external.trainingId))}`);
      const status = String(data.status);
      if (!STATES.has(status))
        return {
          state: 'failed',
          error: `the self-hosted trainer gave an unknown status ${JSON.stringify(status)}`,
          external,
        };
      if (status === 'succeeded') {
        const result = data.result as { lora_name?: unknown; lora_url?: unknown } | undefined;
        if (typeof result?.lora_name !== 'string' || !/^[A-Za-z0-9._-]{1,100}$/.test(result.lora_name)) {
          return {
            state: 'failed',
            error: 'the self-hosted trainer succeeded without a usable result.lora_name',
            external,
          };
        }
        return {
          state: 'succeeded',
          external,
          weights: {
            kind: 'lora-file',
            loraName: result.lora_name,
            ...(typeof result.lora_url === 'string' && { loraUrl: result.lora_url }),
          },
        };
      }
      if (status === 'failed')
        return {
          state: 'failed',
          error: `the self-hosted training failed: ${String(data.error ?? 'no error given')}`,
          external,
        };
      if (status === 'cancelled') return { state: 'cancelled', external };
      const progress =
        typeof data.progress === 'number' && data.progress >= 0 && data.progress <= 1 ? data.progress : 0;
      return { state: 'running', progress: Math.min(progress, 0.99), external };
    },
    async cancel(_context, external) {
      await api('POST', `/trainings/${encodeURIComponent(String(external.trainingId))}/cancel`);
    },
  };
}

/** `PIXEL_SELFHOSTED_TRAINER_URL` (and `PIXEL_SELFHOSTED_TRAINER_TOKEN` when the box wants one). */
export function selfHostedTrainingFromEnv(env: NodeJS.ProcessEnv): TrainingBackend | undefined {
  const baseUrl = env.PIXEL_SELFHOSTED_TRAINER_URL?.trim();
  if (!baseUrl) return undefined;
  const token = env.PIXEL_SELFHOSTED_TRAINER_TOKEN?.trim();
  return createSelfHostedTrainingBackend({ baseUrl, ...(token && { token }) });
}
