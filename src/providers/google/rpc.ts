import { z } from 'zod';
import { PixelError } from '../../protocol/errors.ts';
import { classifyHttpFailure, parseDurationMs } from '../common/http.ts';

/**
 * Google RPC-style error bodies, shared by the Gemini API and Vertex AI adapters and their fakes:
 * `{ error: { code, message, status, details: [RetryInfo, ErrorInfo, BadRequest, …] } }`.
 */

export const RPC_TYPE = {
  retryInfo: 'type.googleapis.com/google.rpc.RetryInfo',
  errorInfo: 'type.googleapis.com/google.rpc.ErrorInfo',
  badRequest: 'type.googleapis.com/google.rpc.BadRequest',
  quotaFailure: 'type.googleapis.com/google.rpc.QuotaFailure',
} as const;

const DetailSchema = z.looseObject({
  '@type': z.string(),
  retryDelay: z.string().optional(),
  reason: z.string().optional(),
  fieldViolations: z
    .array(z.object({ field: z.string().optional(), description: z.string().optional() }))
    .optional(),
});

export const RpcErrorSchema = z.object({
  error: z.object({
    code: z.number().int(),
    message: z.string(),
    status: z.string().optional(),
    details: z.array(DetailSchema).optional(),
  }),
});
export type RpcError = z.infer<typeof RpcErrorSchema>['error'];

/** The body a Google API sends for an error (what the fakes answer). */
export function rpcErrorBody(
  code: number,
  status: string,
  message: string,
  details: Array<Record<string, unknown>> = [],
): { error: RpcError } {
  return {
    error: {
      code,
      message,
      status,
      ...(details.length > 0 ? { details: details as RpcError['details'] } : {}),
    },
  };
}

/**
 * Reads a failed response into a PixelError. `moderated` lets the caller recognise its API's
 * refusal wording (Vertex's "Responsible AI practices" 400s).
 */
export async function googleHttpError(
  provider: string,
  response: Response,
  moderated: (message: string) => boolean = () => false,
): Promise<PixelError> {
  const text = await response.text();
  let rpc: RpcError | undefined;
  try {
    const parsed = RpcErrorSchema.safeParse(JSON.parse(text));
    if (parsed.success) rpc = parsed.data.error;
  } catch {
    // An HTML error page from a proxy: the status decides.
  }
  const details = rpc?.details ?? [];
  const reason = details.find((d) => d['@type'] === RPC_TYPE.errorInfo)?.reason;
  const message = rpc ? `${rpc.status ? `${rpc.status}: ` : ''}${rpc.message}` : text.slice(0, 200);
  // A bad API key is a 400 INVALID_ARGUMENT on the Gemini API; it is an authentication failure to us.
  const authFailure = reason === 'API_KEY_INVALID' || rpc?.status === 'UNAUTHENTICATED';
  const retryDelay = details.find((d) => d['@type'] === RPC_TYPE.retryInfo)?.retryDelay;
  const error = classifyHttpFailure({
    provider,
    status: authFailure ? 401 : response.status,
    headers: response.headers,
    message,
    moderated: rpc !== undefined && moderated(rpc.message),
    ...(retryDelay !== undefined ? { retryAfterMs: parseDurationMs(retryDelay) } : {}),
  });
  const field = details.find((d) => d['@type'] === RPC_TYPE.badRequest)?.fieldViolations?.[0]?.field;
  if (field === undefined && !authFailure) return error;
  return new PixelError({
    code: error.code,
    reason: error.reason,
    retryable: error.retryable,
    provider,
    providerStatus: response.status,
    message: error.message,
    ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    ...(field !== undefined ? { field } : {}),
  });
}
