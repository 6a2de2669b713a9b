// Native fetch adapter: no AI SDK provider package speaks the AUTOMATIC1111 / Forge WebUI API.
import { z } from 'zod';
import {
  checkImage,
  classifyHttpFailure,
  decodeBase64Image,
  malformed,
  networkFailure,
  readJson,
} from '../common/http.ts';
import type { ProviderAdapter, ProviderCall, ProviderImage, ProviderResult } from '../types.ts';
import {
  A1111ErrorSchema,
  type SdModel,
  SdModelListSchema,
  type Txt2ImgInfo,
  Txt2ImgInfoSchema,
  Txt2ImgResponseSchema,
} from './wire.ts';

export interface A1111AdapterConfig {
  baseURL: string;
  /** `--api-auth user:pass` credentials, when the server was started with them. */
  username?: string;
  password?: string;
  fetch?: typeof fetch;
}

export interface A1111Adapter extends ProviderAdapter {
  /** The checkpoints the server has (`GET /sdapi/v1/sd-models`). */
  listModels(signal?: AbortSignal): Promise<SdModel[]>;
}

const PROVIDER = 'a1111';

/** Catalogue ids that mean "whatever checkpoint the server has loaded". */
const LOADED_CHECKPOINT = new Set(['', '*', 'default', 'current', 'loaded']);

export function createA1111Adapter(config: A1111AdapterConfig): A1111Adapter {
  const baseURL = config.baseURL.replace(/\/+$/, '');
  const doFetch = config.fetch ?? fetch;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (config.username !== undefined || config.password !== undefined) {
    const pair = `${config.username ?? ''}:${config.password ?? ''}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  }

  async function send(path: string, init: RequestInit, signal?: AbortSignal): Promise<Response> {
    let response: Response;
    try {
      response = await doFetch(`${baseURL}${path}`, {
        ...init,
        headers: { ...headers, ...init.headers },
        signal,
      });
    } catch (error) {
      throw networkFailure(PROVIDER, error, signal);
    }
    if (!response.ok) throw await a1111Failure(response, path);
    return response;
  }

  return {
    name: PROVIDER,

    async listModels(signal) {
      const response = await send('/sdapi/v1/sd-models', { method: 'GET' }, signal);
      const parsed = SdModelListSchema.safeParse(await readJson(PROVIDER, response));
      if (!parsed.success) throw malformed(PROVIDER, 'answered sd-models with an unexpected shape');
      return parsed.data;
    },

    async generate(call: ProviderCall): Promise<ProviderResult> {
      const body = withCheckpoint(call.body, call.model.providerModelId);
      const response = await send(
        '/sdapi/v1/txt2img',
        { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
        call.signal,
      );
      if (!(response.headers.get('content-type') ?? '').includes('json'))
        throw malformed(
          PROVIDER,
          `answered with content type ${response.headers.get('content-type') ?? 'none'}`,
        );
      const parsed = Txt2ImgResponseSchema.safeParse(await readJson(PROVIDER, response));
      if (!parsed.success) throw malformed(PROVIDER, 'response has no images list');
      const info = parseInfo(parsed.data.info);
      const notes: string[] = [];
      if (!info) notes.push('the server sent no readable info document; seeds are unknown');

      // With several images the WebUI prepends a grid (index_of_first_image = 1) and scripts such as
      // ControlNet may append extra pictures: only the generated ones are returned.
      const first = info?.index_of_first_image ?? 0;
      const generated = Number(body.batch_size ?? 1) * Number(body.n_iter ?? 1);
      const wanted = Math.max(call.count, Number.isFinite(generated) ? generated : call.count);
      const encoded = parsed.data.images.slice(first, first + wanted);
      if (encoded.length === 0) throw malformed(PROVIDER, 'returned no images');
      if (encoded.length < call.count)
        throw malformed(PROVIDER, `returned ${encoded.length} image(s) where ${call.count} were asked for`);

      const images: ProviderImage[] = await Promise.all(
        encoded.map(async (b64, index) => {
          const image = await checkImage(
            PROVIDER,
            decodeBase64Image(PROVIDER, b64, `images[${first + index}]`),
          );
          const seed = info?.all_seeds?.[index] ?? (index === 0 ? info?.seed : undefined);
          return { ...image, seed };
        }),
      );
      const mismatch = checkpointMismatch(body, info);
      if (mismatch) notes.push(mismatch);
      return {
        images,
        usage: info?.sd_model_name ? { checkpoint: info.sd_model_name } : undefined,
        notes: notes.length > 0 ? notes : undefined,
      };
    },
  };
}

/** Asks for the catalogue entry's checkpoint unless the body already names one. */
function withCheckpoint(body: Record<string, unknown>, checkpoint: string): Record<string, unknown> {
  if (LOADED_CHECKPOINT.has(checkpoint.trim().toLowerCase())) return body;
  const overrides = (body.override_settings ?? {}) as Record<string, unknown>;
  if (overrides.sd_model_checkpoint !== undefined) return body;
  return { ...body, override_settings: { ...overrides, sd_model_checkpoint: checkpoint } };
}

function parseInfo(info: string | null | undefined): Txt2ImgInfo | undefined {
  if (!info) return undefined;
  try {
    const parsed = Txt2ImgInfoSchema.safeParse(JSON.parse(info));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The WebUI silently keeps the loaded checkpoint when the requested one does not match any it has;
 * say so rather than pass the image off as the requested model's.
 */
function checkpointMismatch(
  body: Record<string, unknown>,
  info: Txt2ImgInfo | undefined,
): string | undefined {
  const overrides = body.override_settings as Record<string, unknown> | undefined;
  const requested = overrides?.sd_model_checkpoint;
  const used = info?.sd_model_name;
  if (typeof requested !== 'string' || !used) return undefined;
  const stem = (value: string) =>
    value
      .replace(/\s*\[[0-9a-f]+\]$/i, '')
      .replace(/\.(safetensors|ckpt)$/i, '')
      .split(/[\\/]/)
      .pop()!
      .toLowerCase();
  const hash = info?.sd_model_hash?.toLowerCase();
  if (stem(requested) === stem(used) || (hash && requested.toLowerCase().includes(hash))) return undefined;
  return `checkpoint "${requested}" was not found on the server; it generated with "${used}"`;
}

const DetailItem = z.object({ loc: z.array(z.unknown()).optional(), msg: z.string() });

async function a1111Failure(response: Response, path: string): Promise<Error> {
  const text = await response.text();
  let message = text.slice(0, 300);
  try {
    const parsed = A1111ErrorSchema.safeParse(JSON.parse(text));
    if (parsed.success) {
      const { error, detail, errors } = parsed.data;
      const detailText =
        typeof detail === 'string'
          ? detail
          : Array.isArray(detail)
            ? detail
                .map((item) => DetailItem.parse(item))
                .map((item) => `${(item.loc ?? []).filter((part) => part !== 'body').join('.')}: ${item.msg}`)
                .join('; ')
            : '';
      message = [error, detailText || errors].filter(Boolean).join(': ') || message;
    }
  } catch {
    // not JSON (a proxy's page): keep the text
  }
  // The txt2img route exists; its 404 means a name in the body (sampler, script) is unknown.
  const status = response.status === 404 && path.endsWith('/txt2img') ? 400 : response.status;
  return classifyHttpFailure({ provider: PROVIDER, status, headers: response.headers, message });
}
