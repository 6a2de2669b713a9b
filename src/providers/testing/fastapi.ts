import type { z } from 'zod';

/**
 * zod issues → FastAPI's 422 `detail` list, as the FastAPI-fronted fakes (BFL, fal) answer it.
 * An unknown key (strict schemas only) is Pydantic's `extra_forbidden` at that key.
 */
export function fastApiDetail(error: z.ZodError, input: unknown): Array<Record<string, unknown>> {
  return error.issues.map((issue) => {
    const unknownKey = issue.code === 'unrecognized_keys';
    const loc = ['body', ...issue.path.map(String), ...(unknownKey ? [issue.keys[0] ?? ''] : [])];
    const value = issue.path.reduce<unknown>(
      (at, key) => (at && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[key] : undefined),
      input,
    );
    return unknownKey
      ? { type: 'extra_forbidden', loc, msg: 'Extra inputs are not permitted' }
      : { type: issue.code, loc, msg: issue.message, input: value };
  });
}
