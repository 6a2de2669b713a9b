import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import type { Experimental_DecisionModel, LanguageModel } from 'ai';
import { createOllama } from 'ollama-ai-provider-v2';
import { invalidArgument, PixelError } from '../../protocol/errors.ts';

/** The providers the gate's writers and judges can call through the AI SDK. */
export const LLM_PROVIDERS = ['openai', 'anthropic', 'google', 'ollama'] as const;
export type LlmProvider = (typeof LLM_PROVIDERS)[number];

export interface LlmSpec {
  provider: LlmProvider;
  model: string;
}

/** `openai/gpt-4.1-mini` → { provider, model }; errors name the field. */
export function parseLlmSpec(value: string, field = 'model'): LlmSpec {
  const slash = value.indexOf('/');
  const provider = value.slice(0, slash);
  const model = value.slice(slash + 1);
  if (slash <= 0 || model.length === 0 || !(LLM_PROVIDERS as readonly string[]).includes(provider))
    throw invalidArgument(
      field,
      `${field} must be <provider>/<model> with provider one of ${LLM_PROVIDERS.join(', ')}, got ${JSON.stringify(value)}`,
    );
  return { provider: provider as LlmProvider, model };
}

/** Where each provider's key and base URL come from (the same variables the image adapters read). */
export interface LlmConnection {
  apiKey?: string;
  baseURL?: string;
  /** Tests and proxies. */
  fetch?: typeof fetch;
}

export function connectionFromEnv(
  provider: LlmProvider,
  env: NodeJS.ProcessEnv = process.env,
): LlmConnection {
  switch (provider) {
    case 'openai':
      return { apiKey: env.OPENAI_API_KEY, baseURL: env.OPENAI_BASE_URL };
    case 'anthropic':
      return { apiKey: env.ANTHROPIC_API_KEY, baseURL: env.ANTHROPIC_BASE_URL };
    case 'google':
      return {
        apiKey: env.GOOGLE_API_KEY ?? env.GEMINI_API_KEY ?? env.GOOGLE_GENERATIVE_AI_API_KEY,
        baseURL: env.GOOGLE_BASE_URL,
      };
    case 'ollama':
      return { baseURL: env.OLLAMA_BASE_URL };
  }
}

function needKey(spec: LlmSpec, connection: LlmConnection): string {
  if (connection.apiKey) return connection.apiKey;
  throw new PixelError({
    code: 'failed_precondition',
    reason: 'auth',
    field: 'model',
    message: `${spec.provider}/${spec.model} needs an API key for ${spec.provider} (not configured)`,
  });
}

/** A language model for writers and judges. OpenAI goes through chat completions (it has token logprobs). */
export function languageModel(spec: LlmSpec, connection: LlmConnection): LanguageModel {
  switch (spec.provider) {
    case 'openai':
      return createOpenAI({
        apiKey: needKey(spec, connection),
        baseURL: connection.baseURL,
        fetch: connection.fetch,
      }).chat(spec.model);
    case 'anthropic':
      return createAnthropic({
        apiKey: needKey(spec, connection),
        baseURL: connection.baseURL,
        fetch: connection.fetch,
      })(spec.model);
    case 'google':
      return createGoogleGenerativeAI({
        apiKey: needKey(spec, connection),
        baseURL: connection.baseURL,
        fetch: connection.fetch,
      })(spec.model);
    case 'ollama':
      return createOllama({ baseURL: connection.baseURL, fetch: connection.fetch })(spec.model);
  }
}

/** A native decision model (P(yes) from the provider's decisions endpoint), where the provider has one. */
export function decisionModel(
  spec: LlmSpec,
  connection: LlmConnection,
): Experimental_DecisionModel | undefined {
  switch (spec.provider) {
    case 'openai':
      return createOpenAI({
        apiKey: needKey(spec, connection),
        baseURL: connection.baseURL,
        fetch: connection.fetch,
      }).decisionModel(spec.model);
    case 'google':
      return createGoogleGenerativeAI({
        apiKey: needKey(spec, connection),
        baseURL: connection.baseURL,
        fetch: connection.fetch,
      }).decisionModel(spec.model);
    default:
      return undefined;
  }
}
