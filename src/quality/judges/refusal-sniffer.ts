import type { LlmProvider } from '../llm/models.ts';

/** Gemini finish reasons that mean the model declined to answer. */
const GEMINI_BLOCKED = new Set([
  'SAFETY',
  'PROHIBITED_CONTENT',
  'BLOCKLIST',
  'SPII',
  'IMAGE_SAFETY',
  'RECITATION',
]);

/** The provider's own refusal signal in a response body, if any. */
export function refusalIn(provider: LlmProvider, body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, any>;
  switch (provider) {
    case 'openai': {
      const refusal = b.choices?.[0]?.message?.refusal;
      return typeof refusal === 'string' && refusal.length > 0 ? refusal : undefined;
    }
    case 'anthropic':
      return b.stop_reason === 'refusal' ? 'stop_reason refusal' : undefined;
    case 'google': {
      if (b.promptFeedback?.blockReason) return `prompt blocked: ${b.promptFeedback.blockReason}`;
      const reason = b.candidates?.[0]?.finishReason;
      return typeof reason === 'string' && GEMINI_BLOCKED.has(reason) ? `finishReason ${reason}` : undefined;
    }
    case 'ollama':
      return undefined;
  }
}

/**
 * Wraps fetch so one call can learn whether the provider said it refused: the AI SDK turns a
 * refusal into text or an empty result, and the gate must tell "refused" from "malformed".
 */
export function sniffingFetch(provider: LlmProvider, inner: typeof fetch = fetch) {
  const seen: { refusal?: string } = {};
  const wrapped: typeof fetch = async (input, init) => {
    const response = await inner(input, init);
    if ((response.headers.get('content-type') ?? '').includes('application/json')) {
      try {
        const reason = refusalIn(provider, await response.clone().json());
        if (reason) seen.refusal = reason;
      } catch {
        // Not JSON after all: the SDK reports that itself.
      }
    }
    return response;
  };
  return { fetch: wrapped, seen };
}
