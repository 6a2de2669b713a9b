import { z } from 'zod';
import type { PixelError } from '../../protocol/errors.ts';
import { classifyHttpFailure, parseWaitFromMessage } from './http.ts';

/** FastAPI error bodies (BFL, fal): validation errors are a list, other errors a string. */
export const FastApiErrorSchema = z.object({
  detail: z.union([
    z.string(),
    z.array(
      z.object({
        loc: z.array(z.union([z.string(), z.number()])).optional(),
        msg: z.string(),
        type: z.string().optional(),
      }),
    ),
  ]),
});

/** A FastAPI error body as one line: the string `detail`, or each validation error as `field: msg`. */
export function fastApiMessage(body: unknown): string | undefined {
  const parsed = FastApiErrorSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const { detail } = parsed.data;
  if (typeof detail === 'string') return detail;
  return detail
    .map((d) => `${(d.loc ?? []).filter((p) => p !== 'body').join('.') || 'body'}: ${d.msg}`)
    .join('; ');
}

/**
 * Reads a failed response of a FastAPI-fronted provider into a PixelError. The message is what
 * `readMessage` finds in the JSON body, else the body's first 500 characters; a 429 without
 * Retry-After takes its wait from the message ("try again in 2s").
 */
export async function fastApiFailure(
  provider: string,
  response: Response,
  requestId?: string,
  readMessage: (body: unknown) => string | undefined = fastApiMessage,
): Promise<PixelError> {
  const text = await response.text().catch(() => '');
  let message = text.slice(0, 500);
  try {
    message = readMessage(JSON.parse(text)) ?? message;
  } catch {
    // Not JSON: keep the text.
  }
  const wait =
    response.status === 429 && !response.headers.has('retry-after')
      ? parseWaitFromMessage(message)
      : undefined;
  return classifyHttpFailure({
    provider,
    status: response.status,
    headers: response.headers,
    message,
    ...(requestId === undefined ? {} : { requestId }),
    ...(wait === undefined ? {} : { retryAfterMs: wait }),
  });
}
