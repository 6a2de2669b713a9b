import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../testing/fake-http.ts';

/** Header on the fake's own calls to its generations endpoint while it runs a batch (tests tell them apart). */
export const BATCH_INTERNAL_HEADER = 'x-fake-batch-runner';

const ENDPOINTS = new Set([
  '/v1/images/generations',
  '/v1/images/edits',
  '/v1/chat/completions',
  '/v1/responses',
  '/v1/embeddings',
  '/v1/completions',
]);

interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: 'processed';
  expires_at: number | null;
}

interface BatchObject {
  id: string;
  object: 'batch';
  endpoint: string;
  errors: null | {
    object: 'list';
    data: Array<{ code: string; message: string; param: string | null; line: number | null }>;
  };
  input_file_id: string;
  completion_window: string;
  status:
    | 'validating'
    | 'failed'
    | 'in_progress'
    | 'finalizing'
    | 'completed'
    | 'expired'
    | 'cancelling'
    | 'cancelled';
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
}

export interface FakeBatchControl {
  /** The next batch created runs only its first `lines` requests, then expires (the rest: `batch_expired`). */
  expireNextAfter(lines: number): void;
  /** Batches created so far, as the API would show them. */
  readonly batches: ReadonlyMap<string, BatchObject>;
}

class ApiReject extends Error {
  readonly status: number;
  readonly body: { message: string; type: string; param: string | null; code: string | null };
  constructor(status: number, body: ApiReject['body']) {
    super(body.message);
    this.status = status;
    this.body = body;
  }
}

const now = () => Math.floor(Date.now() / 1000);
const badRequest = (message: string, param: string | null, code: string | null = null) =>
  new ApiReject(400, { message, type: 'invalid_request_error', param, code });

/**
 * OpenAI's Files and Batch API as the real one answers: `POST /v1/files` (multipart, purpose `batch`),
 * `GET /v1/files/{id}`, `GET /v1/files/{id}/content`, `POST /v1/batches`, `GET /v1/batches/{id}`,
 * `POST /v1/batches/{id}/cancel`. A batch moves validating → in_progress → finalizing → completed as it is
 * polled; its requests run one by one through this fake's own endpoint (`run`), so they answer (and fail)
 * exactly as direct calls do. A batch told to expire stops after some lines: status `expired`, the rest in
 * its error file as `batch_expired`.
 */
export function createFakeBatchApi(
  run: (endpoint: string, body: unknown) => Promise<{ status: number; body: unknown }>,
) {
  const files = new Map<string, { meta: FileObject; content: Buffer }>();
  const batches = new Map<string, BatchObject>();
  const work = new Map<string, Promise<void>>();
  const pending = new Map<string, { lines: Array<{ custom_id: string; body: unknown }>; limit: number }>();
  let expireAfter: number | undefined;

  const control: FakeBatchControl = {
    expireNextAfter(lines) {
      expireAfter = lines;
    },
    batches,
  };

  const addFile = (content: Buffer, filename: string, purpose: string): FileObject => {
    const meta: FileObject = {
      id: `file-${randomUUID().replaceAll('-', '').slice(0, 24)}`,
      object: 'file',
      bytes: content.byteLength,
      created_at: now(),
      filename,
      purpose,
      status: 'processed',
      expires_at: null,
    };
    files.set(meta.id, { meta, content });
    return meta;
  };

  async function execute(
    batch: BatchObject,
    lines: Array<{ custom_id: string; body: unknown }>,
    limit: number,
  ) {
    const output: string[] = [];
    const errors: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const id = `batch_req_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
      if (i >= limit || batch.status === 'cancelling') {
        errors.push(
          JSON.stringify({
            id,
            custom_id: line.custom_id,
            response: null,
            error:
              batch.status === 'cancelling'
                ? { code: 'batch_cancelled', message: 'This request was cancelled before it was executed.' }
                : {
                    code: 'batch_expired',
                    message: 'This request could not be executed before the completion window expired.',
                  },
          }),
        );
        continue;
      }
      const answer = await run(batch.endpoint, line.body);
      const entry = JSON.stringify({
        id,
        custom_id: line.custom_id,
        response: {
          status_code: answer.status,
          request_id: `req_${randomUUID().replaceAll('-', '')}`,
          body: answer.body,
        },
        error: null,
      });
      if (answer.status === 200) {
        batch.request_counts.completed++;
        output.push(entry);
      } else {
        batch.request_counts.failed++;
        errors.push(entry);
      }
    }
    if (output.length > 0)
      batch.output_file_id = addFile(
        Buffer.from(`${output.join('\n')}\n`),
        'batch_output.jsonl',
        'batch_output',
      ).id;
    if (errors.length > 0)
      batch.error_file_id = addFile(
        Buffer.from(`${errors.join('\n')}\n`),
        'batch_errors.jsonl',
        'batch_output',
      ).id;
    if (batch.status === 'cancelling') {
      batch.status = 'cancelled';
      batch.cancelled_at = now();
    } else if (limit < lines.length) {
      batch.status = 'expired';
      batch.expired_at = now();
    } else {
      batch.status = 'finalizing';
      batch.finalizing_at = now();
    }
  }

  function parseLines(content: Buffer, endpoint: string): Array<{ custom_id: string; body: unknown }> {
    const out: Array<{ custom_id: string; body: unknown }> = [];
    const seen = new Set<string>();
    const text = content.toString('utf8').split('\n');
    for (let i = 0; i < text.length; i++) {
      const raw = text[i]!.trim();
      if (raw === '') continue;
      let line: { custom_id?: unknown; method?: unknown; url?: unknown; body?: unknown };
      try {
        line = JSON.parse(raw);
      } catch {
        throw badRequest(`Line ${i + 1} is not valid JSON.`, null, 'invalid_json_line');
      }
      if (typeof line.custom_id !== 'string' || line.custom_id === '') {
        throw badRequest(`Line ${i + 1}: custom_id is required.`, 'custom_id', 'missing_required_parameter');
      }
      if (seen.has(line.custom_id)) {
        throw badRequest(
          `Line ${i + 1}: custom_id '${line.custom_id}' is duplicated.`,
          'custom_id',
          'duplicate_custom_id',
        );
      }
      seen.add(line.custom_id);
      if (line.method !== 'POST')
        throw badRequest(`Line ${i + 1}: method must be POST.`, 'method', 'invalid_value');
      if (line.url !== endpoint) {
        throw badRequest(
          `Line ${i + 1}: url '${String(line.url)}' does not match the batch endpoint '${endpoint}'.`,
          'url',
          'mismatched_url',
        );
      }
      out.push({ custom_id: line.custom_id, body: line.body });
    }
    if (out.length === 0) throw badRequest('The batch input file is empty.', null, 'empty_file');
    if (out.length > 50_000)
      throw badRequest('A batch may hold at most 50,000 requests.', null, 'too_many_requests');
    return out;
  }

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    raw: Buffer,
    headers: Record<string, string>,
  ) {
    try {
      const method = req.method ?? 'GET';
      if (method === 'POST' && path === '/v1/files') {
        const form = parseMultipart(raw, req.headers['content-type'] ?? '');
        const purpose = form.fields.get('purpose');
        if (!purpose)
          throw badRequest("Missing required parameter: 'purpose'.", 'purpose', 'missing_required_parameter');
        if (!['batch', 'fine-tune', 'assistants', 'vision', 'user_data', 'evals'].includes(purpose)) {
          throw badRequest(`Invalid value for 'purpose': '${purpose}'.`, 'purpose', 'invalid_value');
        }
        const file = form.files.get('file');
        if (!file)
          throw badRequest("Missing required parameter: 'file'.", 'file', 'missing_required_parameter');
        sendJson(res, 200, addFile(file.content, file.filename, purpose), headers);
        return;
      }
      let m = /^\/v1\/files\/([^/]+)(\/content)?$/.exec(path);
      if (method === 'GET' && m) {
        const file = files.get(m[1]!);
        if (!file)
          throw new ApiReject(404, {
            message: `No such File object: ${m[1]}`,
            type: 'invalid_request_error',
            param: 'id',
            code: null,
          });
        if (m[2]) {
          res.writeHead(200, {
            'content-type': 'application/octet-stream',
            'content-length': file.content.byteLength,
            ...headers,
          });
          res.end(file.content);
        } else sendJson(res, 200, file.meta, headers);
        return;
      }
      if (method === 'POST' && path === '/v1/batches') {
        const body = (() => {
          try {
            return JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
          } catch {
            throw badRequest(
              "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
              null,
            );
          }
        })();
        for (const field of ['input_file_id', 'endpoint', 'completion_window']) {
          if (typeof body[field] !== 'string')
            throw badRequest(`Missing required parameter: '${field}'.`, field, 'missing_required_parameter');
        }
        const endpoint = body.endpoint as string;
        if (!ENDPOINTS.has(endpoint)) {
          throw badRequest(
            `Invalid value for 'endpoint': '${endpoint}' is not a supported batch endpoint.`,
            'endpoint',
            'invalid_value',
          );
        }
        if (body.completion_window !== '24h') {
          throw badRequest(
            `Invalid value for 'completion_window': only '24h' is supported.`,
            'completion_window',
            'invalid_value',
          );
        }
        const input = files.get(body.input_file_id as string);
        if (!input) {
          throw new ApiReject(404, {
            message: `No such File object: ${String(body.input_file_id)}`,
            type: 'invalid_request_error',
            param: 'input_file_id',
            code: null,
          });
        }
        if (input.meta.purpose !== 'batch') {
          throw badRequest(
            `The file ${input.meta.id} was not uploaded with purpose 'batch'.`,
            'input_file_id',
            'invalid_value',
          );
        }
        const lines = parseLines(input.content, endpoint);
        const created = now();
        const batch: BatchObject = {
          id: `batch_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
          object: 'batch',
          endpoint,
          errors: null,
          input_file_id: input.meta.id,
          completion_window: '24h',
          status: 'validating',
          output_file_id: null,
          error_file_id: null,
          created_at: created,
          in_progress_at: null,
          expires_at: created + 24 * 3600,
          finalizing_at: null,
          completed_at: null,
          failed_at: null,
          expired_at: null,
          cancelling_at: null,
          cancelled_at: null,
          request_counts: { total: lines.length, completed: 0, failed: 0 },
          metadata: (body.metadata as Record<string, string> | undefined) ?? null,
        };
        const limit = expireAfter ?? lines.length;
        expireAfter = undefined;
        batches.set(batch.id, batch);
        pending.set(batch.id, { lines, limit });
        sendJson(res, 200, batch, headers);
        return;
      }
      m = /^\/v1\/batches\/([^/]+)(\/cancel)?$/.exec(path);
      if (m && ((method === 'GET' && !m[2]) || (method === 'POST' && m[2]))) {
        const batch = batches.get(m[1]!);
        if (!batch)
          throw new ApiReject(404, {
            message: `No batch found with id '${m[1]}'.`,
            type: 'invalid_request_error',
            param: null,
            code: null,
          });
        if (m[2]) {
          if (['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) {
            throw new ApiReject(409, {
              message: `Cannot cancel a batch with status '${batch.status}'.`,
              type: 'invalid_request_error',
              param: null,
              code: null,
            });
          }
          if (batch.status === 'validating') {
            batch.status = 'cancelled';
            batch.cancelled_at = now();
          } else {
            batch.status = 'cancelling';
            batch.cancelling_at = now();
          }
        } else advance(batch);
        sendJson(res, 200, batch, headers);
        return;
      }
      throw new ApiReject(404, {
        message: `Invalid URL (${method} ${path})`,
        type: 'invalid_request_error',
        param: null,
        code: null,
      });
    } catch (error) {
      if (!(error instanceof ApiReject)) throw error;
      sendJson(res, error.status, { error: error.body }, headers);
    }
  }

  /** One step per poll: validating → in_progress (the requests start) → … → finalizing → completed. */
  function advance(batch: BatchObject): void {
    if (batch.status === 'validating') {
      batch.status = 'in_progress';
      batch.in_progress_at = now();
      const job = pending.get(batch.id)!;
      pending.delete(batch.id);
      work.set(batch.id, execute(batch, job.lines, job.limit));
    } else if (batch.status === 'finalizing') {
      batch.status = 'completed';
      batch.completed_at = now();
    }
  }

  return {
    handle,
    control,
    /** Resolves once every batch's requests have run (tests). */
    async settled() {
      await Promise.all(work.values());
    },
  };
}

/** Enough of multipart/form-data for the Files API: text fields and files. */
export function parseMultipart(raw: Buffer, contentType: string) {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!contentType.includes('multipart/form-data') || !boundary) {
    throw badRequest(`Invalid Content-Type header (${contentType}), expected multipart/form-data.`, null);
  }
  const marker = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const fields = new Map<string, string>();
  const files = new Map<string, { filename: string; content: Buffer }>();
  let at = raw.indexOf(marker);
  for (let guard = 0; at >= 0 && guard < 1_000; guard++) {
    const start = at + marker.length;
    if (raw.subarray(start, start + 2).toString() === '--') break;
    const next = raw.indexOf(marker, start);
    if (next < 0) break;
    const part = raw.subarray(start + 2, next - 2);
    const split = part.indexOf('\r\n\r\n');
    if (split >= 0) {
      const head = part.subarray(0, split).toString('utf8');
      const body = part.subarray(split + 4);
      const name = /name="([^"]*)"/i.exec(head)?.[1];
      const filename = /filename="([^"]*)"/i.exec(head)?.[1];
      if (name !== undefined) {
        if (filename !== undefined) files.set(name, { filename, content: Buffer.from(body) });
        else fields.set(name, body.toString('utf8'));
      }
    }
    at = next;
  }
  return { fields, files };
}
