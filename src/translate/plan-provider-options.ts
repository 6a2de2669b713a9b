import type { ModelEntry } from '../models/schema.ts';
import { invalidArgument } from '../protocol/errors.ts';
import type { GenerateRequest } from '../protocol/request.ts';
import type { ReportLine } from './types.ts';

export function planProviderOptions(
  request: GenerateRequest,
  model: ModelEntry,
  managed: readonly string[],
  allowed: Readonly<Record<string, string>>,
  report: ReportLine[],
): Record<string, unknown> | undefined {
  if (!request.providerOptions) return undefined;
  let out: Record<string, unknown> | undefined;
  for (const [provider, fields] of Object.entries(request.providerOptions)) {
    if (provider !== model.provider) {
      report.push({
        param: `providerOptions.${provider}`,
        status: 'dropped',
        note: `applies to ${provider}, not to ${model.id}`,
      });
      continue;
    }
    for (const [key, value] of Object.entries(fields)) {
      const field = `providerOptions.${provider}.${key}`;
      if (managed.includes(key)) {
        throw invalidArgument(
          field,
          `${field} is set by Pixel from the unified parameters; use those instead`,
        );
      }
      const type = allowed[key];
      if (type === undefined) {
        const known = Object.keys(allowed);
        throw invalidArgument(
          field,
          `${field} is not a field Pixel passes to ${model.id}${known.length ? `; allowed: ${known.join(', ')}` : ''}`,
        );
      }
      if (!matchesType(value, type))
        throw invalidArgument(field, `${field} must be a ${type}, got ${JSON.stringify(value)}`);
      out ??= {};
      out[key] = value;
      report.push({ param: field, status: 'native', sent: value, note: 'passed through as given' });
    }
  }
  return out;
}

export function matchesType(value: unknown, type: string): boolean {
  if (type === 'array') return Array.isArray(value);
  if (type === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
  return typeof value === type;
}

/** Where pass-through fields go in a body whose native fields are nested. */
export function passthroughTarget(body: Record<string, unknown>, model: ModelEntry): Record<string, unknown> {
  const nested = NESTED_FIELDS[model.transport];
  if (!nested) return body;
  const target = body[nested];
  if (typeof target === 'object' && target !== null) return target as Record<string, unknown>;
  return body;
}

const NESTED_FIELDS: Partial<Record<ModelEntry['transport'], string>> = {
  replicate: 'input',
  'vertex-imagen': 'parameters',
  'bedrock-titan': 'imageGenerationConfig',
  'bedrock-nova': 'imageGenerationConfig',
  gemini: 'generationConfig',
};
