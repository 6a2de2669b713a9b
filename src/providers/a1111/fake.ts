import { randomInt, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import sharp from 'sharp';
import {
  credentialsSeen,
  delay,
  FakeState,
  type ParsedRequest,
  sendBytes,
  sendJson,
} from '../testing/fake-http.ts';
import { fakeImage } from '../testing/fake-image.ts';
import type { FakeServer, Fault } from '../testing/types.ts';
import { A1111_SAMPLERS, type SdModel, type Txt2ImgRequest, Txt2ImgRequestSchema } from './wire.ts';

/**
 * A local AUTOMATIC1111 WebUI (`--api`, optionally `--api-auth`): txt2img with the WebUI's own
 * habits (grid image first when several are made, `info` as a JSON string, unknown checkpoints
 * silently ignored, unknown samplers 404), the model list, and its two error body shapes.
 */

export interface A1111FakeOptions {
  /** `--api-auth user:pass`; without it the API is open, as by default. */
  auth?: { username: string; password: string };
  models?: SdModel[];
  /** The WebUI option `return_grid` (on by default). */
  returnGrid?: boolean;
}

export const FAKE_A1111_MODELS: SdModel[] = [
  {
    title: 'v1-5-pruned-emaonly.safetensors [6ce0161689]',
    model_name: 'v1-5-pruned-emaonly',
    hash: '6ce0161689',
    sha256: '6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa',
    filename: '/models/Stable-diffusion/v1-5-pruned-emaonly.safetensors',
    config: null,
  },
  {
    title: 'sd_xl_base_1.0.safetensors [31e35c80fc]',
    model_name: 'sd_xl_base_1.0',
    hash: '31e35c80fc',
    sha256: '31e35c80fc4829d14f90153f4c74cd59c90b779f6afe05a74cd6120b893f7e5b',
    filename: '/models/Stable-diffusion/sd_xl_base_1.0.safetensors',
    config: null,
  },
];

export async function startA1111Fake(options: A1111FakeOptions = {}): Promise<FakeServer> {
  const state = new FakeState();
  const { faults } = state;
  const models = options.models ?? FAKE_A1111_MODELS;
  const returnGrid = options.returnGrid ?? true;

  const handle = async (request: ParsedRequest, res: ServerResponse) => {
    if (options.auth && !authorised(request, options.auth)) {
      httpException(res, 401, 'Incorrect username or password', { 'www-authenticate': 'Basic' });
      return;
    }
    const route = `${request.method} ${request.url.pathname}`;
    if (route === 'GET /sdapi/v1/sd-models') {
      sendJson(res, 200, models);
      return;
    }
    if (route === 'POST /interrupt' || route === 'POST /sdapi/v1/interrupt') {
      sendJson(res, 200, {});
      return;
    }
    if (route !== 'POST /sdapi/v1/txt2img') {
      sendJson(res, 404, { detail: 'Not Found' });
      return;
    }
    const fault = faults.take();
    if (fault?.kind === 'echo_credential') {
      const seen = credentialsSeen(request.headers);
      if (fault.status === 401) httpException(res, 401, `Incorrect username or password: ${seen}`);
      else webuiException(res, 500, 'RuntimeError', `request failed (${seen})`);
      return;
    }
    if (fault && (await answerFault(fault, res))) return;
    const parsed = Txt2ImgRequestSchema.safeParse(request.body ?? {});
    if (!parsed.success || typeof request.body !== 'object') {
      // FastAPI's own request-validation answer (the WebUI does not wrap it).
      const issues = parsed.success ? [] : parsed.error.issues;
      sendJson(res, 422, {
        detail:
          issues.length > 0
            ? issues.map((issue) => ({
                loc: ['body', ...issue.path.map(String)],
                msg: issue.message,
                type: `type_error.${issue.code}`,
              }))
            : [{ loc: ['body'], msg: 'field required', type: 'value_error.missing' }],
      });
      return;
    }
    await txt2img(parsed.data, models, returnGrid, res);
  };

  const server = await state.serve(handle, (res, error) =>
    webuiException(res, 500, 'RuntimeError', String(error)),
  );
  return state.fake(server, options.auth ? `${options.auth.username}:${options.auth.password}` : '');
}

function authorised(request: ParsedRequest, auth: { username: string; password: string }): boolean {
  const match = /^Basic\s+(.+)$/i.exec(request.headers.authorization ?? '');
  if (!match) return false;
  const given = Buffer.from(Buffer.from(match[1]!, 'base64').toString('utf8'));
  const expected = Buffer.from(`${auth.username}:${auth.password}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The WebUI's exception handler body. */
function webuiException(
  res: ServerResponse,
  status: number,
  error: string,
  errors: string,
  detail = '',
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error, detail, body: '', errors }, headers);
}

function httpException(
  res: ServerResponse,
  status: number,
  detail: string,
  headers: Record<string, string> = {},
) {
  webuiException(res, status, 'HTTPException', `${status}: ${detail}`, detail, headers);
}

async function answerFault(fault: Fault, res: ServerResponse): Promise<boolean> {
  switch (fault.kind) {
    case 'echo_credential':
      return false; // answered before the fault switch, where the request is at hand
    case 'rate_limit':
      // The WebUI has no limiter; deployments put one in front (a proxy answering 429 + Retry-After).
      sendJson(
        res,
        429,
        { detail: 'Too Many Requests' },
        { 'retry-after': String(fault.retryAfterMs / 1000) },
      );
      return true;
    case 'server_error':
      if (fault.status === 500)
        webuiException(res, 500, 'OutOfMemoryError', 'CUDA out of memory. Tried to allocate 2.00 GiB');
      else sendBytes(res, fault.status, Buffer.from('<html><body>Bad Gateway</body></html>'), 'text/html');
      return true;
    case 'moderation':
      // There is no content filter on a WebUI: the request simply succeeds.
      return false;
    case 'invalid':
      sendJson(res, 422, {
        detail: [{ loc: ['body', 'steps'], msg: 'value is not a valid integer', type: 'type_error.integer' }],
      });
      return true;
    case 'malformed':
      if (fault.variant === 'wrong_content_type')
        sendBytes(res, 200, Buffer.from('<html><body>Stable Diffusion</body></html>'), 'text/html');
      else if (fault.variant === 'missing_fields') sendJson(res, 200, { parameters: {}, info: '{}' });
      else if (fault.variant === 'empty_list') sendJson(res, 200, { images: [], parameters: {}, info: '{}' });
      else
        sendJson(res, 200, {
          images: [Buffer.from('definitely not a png').toString('base64')],
          parameters: {},
          info: JSON.stringify({ seed: 1, all_seeds: [1], index_of_first_image: 0 }),
        });
      return true;
    case 'slow':
      await delay(fault.delayMs, res);
      return res.destroyed;
    case 'stuck':
      await delay(30_000, res);
      return true;
  }
}

function findCheckpoint(models: SdModel[], wanted: unknown): SdModel | undefined {
  if (typeof wanted !== 'string' || wanted === '') return undefined;
  return models.find(
    (model) =>
      model.title === wanted ||
      model.model_name === wanted ||
      model.hash === wanted ||
      model.sha256 === wanted ||
      model.filename.endsWith(`/${wanted}`) ||
      model.title.startsWith(wanted),
  );
}

async function txt2img(
  body: Txt2ImgRequest,
  models: SdModel[],
  returnGrid: boolean,
  res: ServerResponse,
): Promise<void> {
  const sampler = body.sampler_name ?? null;
  if (sampler !== null && !(A1111_SAMPLERS as readonly string[]).includes(sampler)) {
    httpException(res, 404, 'Sampler not found');
    return;
  }
  // The UI's own limits; the API does not check them, but the fake must stay small.
  const count = body.batch_size * body.n_iter;
  if (
    count < 1 ||
    count > 16 ||
    body.width < 64 ||
    body.height < 64 ||
    body.width > 2048 ||
    body.height > 2048
  ) {
    webuiException(
      res,
      500,
      'ValueError',
      'batch_size × n_iter or the size is outside what this fake renders',
    );
    return;
  }
  // An unknown checkpoint is dropped silently and the loaded model (the first) is used.
  const model = findCheckpoint(models, body.override_settings?.sd_model_checkpoint) ?? models[0]!;
  const seed = body.seed === -1 ? randomInt(0, 2 ** 32 - 1) : body.seed;
  const width = Math.floor(body.width / 8) * 8;
  const height = Math.floor(body.height / 8) * 8;
  const allSeeds = Array.from({ length: count }, (_, index) => seed + index);
  const images: Uint8Array[] = [];
  for (const itemSeed of allSeeds) {
    images.push((await fakeImage({ prompt: body.prompt, width, height, seed: itemSeed })).bytes);
  }
  const grid = returnGrid && count > 1;
  if (grid) images.unshift(await makeGrid(images, width, height));
  const info = {
    prompt: body.prompt,
    all_prompts: allSeeds.map(() => body.prompt),
    negative_prompt: body.negative_prompt,
    seed,
    all_seeds: allSeeds,
    subseed: seed + 1,
    all_subseeds: allSeeds.map((s) => s + 1),
    width,
    height,
    sampler_name: sampler ?? 'DPM++ 2M',
    cfg_scale: body.cfg_scale,
    steps: body.steps,
    batch_size: body.batch_size,
    sd_model_name: model.model_name,
    sd_model_hash: model.hash,
    index_of_first_image: grid ? 1 : 0,
    infotexts: allSeeds.map(
      (s) => `${body.prompt}\nSteps: ${body.steps}, Seed: ${s}, Model: ${model.model_name}`,
    ),
    styles: body.styles,
    job_timestamp: new Date().toISOString().replace(/\D/g, '').slice(0, 14),
    version: 'v1.10.1',
  };
  sendJson(res, 200, {
    images: images.map((bytes) => Buffer.from(bytes).toString('base64')),
    parameters: body,
    info: JSON.stringify(info),
  });
}

/** The WebUI's grid: the images tiled in rows of ceil(sqrt(n)). */
async function makeGrid(images: Uint8Array[], width: number, height: number): Promise<Uint8Array> {
  const cols = Math.ceil(Math.sqrt(images.length));
  const rows = Math.ceil(images.length / cols);
  const grid = await sharp({
    create: { width: width * cols, height: height * rows, channels: 3, background: { r: 0, g: 0, b: 0 } },
  })
    .composite(
      images.map((bytes, index) => ({
        input: Buffer.from(bytes),
        left: (index % cols) * width,
        top: Math.floor(index / cols) * height,
      })),
    )
    .png()
    .toBuffer();
  return new Uint8Array(grid);
}
