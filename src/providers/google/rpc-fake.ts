import type { ServerResponse } from 'node:http';
import { sendJson } from '../testing/fake-http.ts';
import { RPC_TYPE, rpcErrorBody } from './rpc.ts';

/** Pieces of Google's error answers shared by the Gemini API and Vertex AI fakes. */

/** Answers a Google RPC error body (`headers` for an API's own extras, e.g. its content type). */
export function sendRpcError(
  res: ServerResponse,
  code: number,
  status: string,
  message: string,
  details: Array<Record<string, unknown>> = [],
  headers: Record<string, string> = {},
): void {
  sendJson(res, code, rpcErrorBody(code, status, message, details), headers);
}

/** The RetryInfo detail a 429 carries. */
export function retryInfo(retryAfterMs: number): Record<string, unknown> {
  return { '@type': RPC_TYPE.retryInfo, retryDelay: `${retryAfterMs / 1000}s` };
}

/** Google's front end answering a path it does not route. */
export const urlNotFound = (path: string) => `The requested URL ${path} was not found on this server.`;
