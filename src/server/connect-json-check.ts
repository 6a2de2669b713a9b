import type { IncomingMessage } from 'node:http';
import { type DescMethod, fromJson, toJson } from '@bufbuild/protobuf';
import type { ConnectRouter } from '@connectrpc/connect';
import { errorToJsonBytes } from '@connectrpc/connect/protocol-connect';
import type { FastifyInstance } from 'fastify';
import { type ErrorCode, PixelError } from '../protocol/errors.ts';
import { toConnectError } from './wire-errors.ts';

const UNARY_JSON = /^application\/json(?:\s*;|$)/i;
/** What Connect's own JSON decoding uses: unknown fields are ignored (a newer client may send them). */
const READ = { ignoreUnknownFields: true };

type Outcome = { ok: true; json: unknown } | { ok: false; error: PixelError };

function refusal(field: string, reason: string, message: string, code: ErrorCode = 'invalid_argument') {
  return { ok: false as const, error: new PixelError({ code, field, reason, message }) };
}

/**
 * The key of a request object that the decoder refuses: each top-level key is decoded alone, so a bad value
 * (an array where an object belongs, nesting past the decoder's depth) is named instead of the whole body.
 */
function failingKey(method: DescMethod, body: Record<string, unknown>): string | undefined {
  for (const [key, value] of Object.entries(body)) {
    try {
      fromJson(method.input, { [key]: value } as never, READ);
    } catch {
      return key;
    }
  }
  return undefined;
}

/** Decodes a Connect unary JSON body the way Connect will, and names what it refuses. */
export function checkConnectJson(method: DescMethod, text: string): Outcome {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return refusal(
      'body',
      'malformed_json',
      `the request body is not valid JSON (${(error as Error).message})`,
    );
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return refusal(
      'body',
      'not_an_object',
      `the request body must be a JSON object holding the fields of ${method.input.typeName}`,
    );
  }
  try {
    // Handed back as the message's canonical JSON: Connect refuses unknown keys in a body given to it parsed,
    // though it ignores them in one it reads itself.
    return { ok: true, json: toJson(method.input, fromJson(method.input, json as never, READ)) };
  } catch (error) {
    const key = failingKey(method, json as Record<string, unknown>) ?? 'body';
    return refusal(key, 'undecodable', `${key}: ${(error as Error).message.replace(/^\[\w+\] /, '')}`);
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else chunks.push(chunk);
    });
    req.once('end', () => resolve(over ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

/**
 * Connect decodes a request before any interceptor runs, and its own refusals ("cannot decode message …
 * from JSON: Array(1)") name no field. Unary JSON calls are read and checked here first: a refusal names the
 * field at fault (or `body`) in Pixel's error detail, and an accepted body is handed to Connect already
 * parsed, so it is not read twice.
 */
export function registerConnectJsonCheck(
  app: FastifyInstance,
  router: () => ConnectRouter | undefined,
  maxBytes: number,
): void {
  let methods: Map<string, DescMethod> | undefined;
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST' || !UNARY_JSON.test(request.headers['content-type'] ?? '')) return;
    methods ??= new Map((router()?.handlers ?? []).map((h) => [h.requestPath, h.method]));
    const method = methods.get(request.url.split('?')[0] ?? '');
    if (method === undefined || method.methodKind !== 'unary') return;
    const length = Number(request.headers['content-length'] ?? Number.NaN);
    // Too large to read: refused unread, and the connection closed after the answer (its rest is never read).
    const text = length > maxBytes ? undefined : await readBody(request.raw, maxBytes);
    if (text === undefined) reply.header('connection', 'close');
    const outcome =
      text === undefined
        ? refusal('body', 'too_large', `the request body is over ${maxBytes} bytes`, 'resource_exhausted')
        : checkConnectJson(method, text);
    if (outcome.ok) {
      request.body = outcome.json;
      return;
    }
    const status = outcome.error.code === 'resource_exhausted' ? 429 : 400;
    return reply
      .code(status)
      .header('content-type', 'application/json')
      .send(Buffer.from(errorToJsonBytes(toConnectError(outcome.error), undefined)));
  });
}
