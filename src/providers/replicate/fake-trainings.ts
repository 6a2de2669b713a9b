import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for Replicate's trainings API as a fine-tune backend uses it: models (get, create: a
 * training's destination must exist), file uploads (`POST /v1/files`, multipart), trainings created on a
 * trainer version (`POST /v1/models/{owner}/{name}/versions/{version}/trainings`), read
 * (`GET /v1/trainings/{id}`) and cancelled (`POST /v1/trainings/{id}/cancel`). Statuses go starting →
 * processing → succeeded | failed | canceled, one step per read (no clock), with logs carrying a percentage;
 * a success pushes a new version to the destination. Errors are problem-details JSON like the real API.
 */
export interface ReplicateTrainingsFake {
  url: string;
  /** Trainings created, by id (what the test can look at). */
  trainings: Map<string, FakeTraining>;
  /** Models that exist (`owner/name`). */
  models: Set<string>;
  /** Uploaded files by id: their bytes. */
  files: Map<string, Uint8Array>;
  /** The next training created fails at its end with this error. */
  failNext(error: string): void;
  close(): Promise<void>;
}

export interface FakeTraining {
  id: string;
  model: string;
  version: string;
  destination: string;
  input: Record<string, unknown>;
  status: 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled';
  reads: number;
  failWith?: string;
  output: { version: string; weights: string } | null;
  error: string | null;
}

/** The trainer this fake knows, with its latest version. */
export const FAKE_TRAINER = 'ostris/flux-dev-lora-trainer';
export const FAKE_TRAINER_VERSION = 'e440909d3512c31646ee2e0c7d6f6f4923224863a6a10c494606e79fb5844497';
/** Reads a training stays `processing` before it finishes. */
const PROCESSING_READS = 3;

function problem(res: ServerResponse, status: number, title: string, detail: string): void {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ type: 'https://replicate.com/docs/reference/http', title, status, detail }));
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 100 * 1024 * 1024) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The `content` part of a multipart body (the file Replicate's /v1/files takes). */
function multipartFile(body: Buffer, contentType: string): Buffer | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) return undefined;
  const marker = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  let at = body.indexOf(marker);
  while (at !== -1) {
    const next = body.indexOf(marker, at + marker.length);
    if (next === -1) break;
    const part = body.subarray(at + marker.length, next);
    const split = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, split).toString('utf8');
    if (/name="content"/.test(headers)) return part.subarray(split + 4, part.length - 2);
    at = next;
  }
  return undefined;
}

export async function startReplicateTrainingsFake(
  options: { apiKey?: string } = {},
): Promise<ReplicateTrainingsFake> {
  const apiKey = options.apiKey ?? 'r8_fake_trainings_token';
  const trainings = new Map<string, FakeTraining>();
  const models = new Set<string>([FAKE_TRAINER]);
  const files = new Map<string, Uint8Array>();
  let failNext: string | undefined;
  let base = '';

  const view = (t: FakeTraining) => ({
    id: t.id,
    model: t.model,
    version: t.version,
    destination: t.destination,
    input: t.input,
    status: t.status,
    output: t.output,
    error: t.error,
    logs:
      t.status === 'starting'
        ? ''
        : `flux_train_replicate: ${Math.min(100, Math.round((100 * Math.min(t.reads, PROCESSING_READS)) / PROCESSING_READS))}%|`,
    created_at: '2026-12-02T00:00:00.000Z',
    urls: { get: `${base}/v1/trainings/${t.id}`, cancel: `${base}/v1/trainings/${t.id}/cancel` },
  });

  const server = createServer((req, res) => {
    void (async () => {
      if (req.headers.authorization !== `Bearer ${apiKey}`) {
        return problem(res, 401, 'Unauthenticated', 'You did not pass a valid authentication token');
      }
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const body = req.method === 'POST' ? await readBody(req) : Buffer.alloc(0);
      const parse = (): Record<string, unknown> | undefined => {
        try {
          const value = JSON.parse(body.toString('utf8')) as unknown;
          return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
        } catch {
          return undefined;
        }
      };
      const match = (method: string, re: RegExp) => (req.method === method ? re.exec(path) : null);
      let m: RegExpExecArray | null;
      if (req.method === 'POST' && path === '/v1/files') {
        const file = multipartFile(body, String(req.headers['content-type'] ?? ''));
        if (!file) return problem(res, 400, 'Bad Request', 'Missing file content');
        const id = randomBytes(8).toString('hex');
        files.set(id, new Uint8Array(file));
        return json(res, 201, { id, size: file.length, urls: { get: `${base}/v1/files/${id}` } });
      }
      if (req.method === 'POST' && path === '/v1/models') {
        const input = parse();
        const owner = input?.owner;
        const name = input?.name;
        if (typeof owner !== 'string' || typeof name !== 'string' || !input?.visibility || !input?.hardware) {
          return problem(
            res,
            422,
            'Unprocessable Entity',
            'owner, name, visibility and hardware are required',
          );
        }
        if (models.has(`${owner}/${name}`)) {
          return problem(res, 409, 'Conflict', 'A model with that name and owner already exists.');
        }
        models.add(`${owner}/${name}`);
        return json(res, 201, { owner, name, visibility: input.visibility, latest_version: null });
      }
      m = match('GET', /^\/v1\/models\/([^/]+)\/([^/]+)$/);
      if (m) {
        const id = `${m[1]}/${m[2]}`;
        if (!models.has(id)) return problem(res, 404, 'Not found', 'Not found.');
        return json(res, 200, {
          owner: m[1],
          name: m[2],
          latest_version: id === FAKE_TRAINER ? { id: FAKE_TRAINER_VERSION } : null,
        });
      }
      m = match('POST', /^\/v1\/models\/([^/]+)\/([^/]+)\/versions\/([^/]+)\/trainings$/);
      if (m) {
        const model = `${m[1]}/${m[2]}`;
        if (model !== FAKE_TRAINER || m[3] !== FAKE_TRAINER_VERSION) {
          return problem(res, 404, 'Not found', `The requested version ${model}:${m[3]} does not exist.`);
        }
        const input = parse();
        const destination = input?.destination;
        if (typeof destination !== 'string' || !models.has(destination)) {
          return problem(res, 404, 'Not found', 'The specified training destination does not exist');
        }
        const trainerInput = input?.input as Record<string, unknown> | undefined;
        if (!trainerInput || typeof trainerInput.input_images !== 'string') {
          return problem(res, 422, 'Unprocessable Entity', '- input_images: input_images is required');
        }
        const training: FakeTraining = {
          id: randomBytes(10).toString('hex'),
          model,
          version: m[3]!,
          destination,
          input: trainerInput,
          status: 'starting',
          reads: 0,
          ...(failNext !== undefined && { failWith: failNext }),
          output: null,
          error: null,
        };
        failNext = undefined;
        trainings.set(training.id, training);
        return json(res, 201, view(training));
      }
      m = match('GET', /^\/v1\/trainings\/([^/]+)$/);
      if (m) {
        const t = trainings.get(m[1]!);
        if (!t) return problem(res, 404, 'Not found', 'Not found.');
        if (t.status === 'starting') t.status = 'processing';
        else if (t.status === 'processing' && ++t.reads >= PROCESSING_READS) {
          if (t.failWith) {
            t.status = 'failed';
            t.error = t.failWith;
          } else {
            t.status = 'succeeded';
            const version = randomBytes(32).toString('hex');
            t.output = {
              version: `${t.destination}:${version}`,
              weights: `https://replicate.delivery/xezq/${t.id}/trained_model.tar`,
            };
          }
        }
        return json(res, 200, view(t));
      }
      m = match('POST', /^\/v1\/trainings\/([^/]+)\/cancel$/);
      if (m) {
        const t = trainings.get(m[1]!);
        if (!t) return problem(res, 404, 'Not found', 'Not found.');
        if (t.status === 'starting' || t.status === 'processing') t.status = 'canceled';
        return json(res, 200, view(t));
      }
      return problem(res, 404, 'Not found', 'Not found.');
    })().catch((error: unknown) => problem(res, 500, 'Internal Server Error', String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    trainings,
    models,
    files,
    failNext: (error) => {
      failNext = error;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
