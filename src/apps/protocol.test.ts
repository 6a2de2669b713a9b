import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { GenerateRequestSchema as WireGenerateRequestSchema } from '../gen/pixel/v1/common_pb.ts';
import { loadCatalog } from '../models/catalog.ts';
import { PixelError } from '../protocol/errors.ts';
import { parseGenerateRequest } from '../protocol/request.ts';
import { fromWireRequest } from '../server/convert.ts';
import { mapOpenAIRequest } from '../server/openai-compat.ts';
import { translate } from '../translate/translate.ts';

function error(input: unknown): PixelError {
  try {
    parseGenerateRequest(input);
  } catch (e) {
    if (PixelError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a validation error');
}

describe('unified request with an application', () => {
  it('makes prompt optional only when app is given', () => {
    const parsed = parseGenerateRequest({
      app: 'butcher-cuts',
      vars: { cut: 'ribeye' },
      appLabel: 'production',
    });
    expect(parsed).toMatchObject({
      app: 'butcher-cuts',
      vars: { cut: 'ribeye' },
      appLabel: 'production',
      prompt: '',
    });
    const missing = error({ model: 'pixel/sketch' });
    expect(missing.field).toBe('prompt');
    expect(missing.message).toContain('prompt is required (or give app and vars');
  });

  it('refuses application fields without app, and label with version', () => {
    expect(error({ prompt: 'a pear', vars: { a: 'b' } }).field).toBe('vars');
    expect(error({ app: 'produce', appLabel: 'production', appVersion: 2 }).field).toBe('appLabel');
    expect(error({ app: 'produce', appVersion: 0 }).field).toBe('appVersion');
    expect(error({ app: 'produce', vars: { 'bad-name': 'x' } }).field).toMatch(/^vars/);
  });

  it('translate refuses an application request that was not rendered', () => {
    expect(() => translate({ app: 'produce', vars: { item: 'lemon' } })).toThrow(
      /render application "produce" first/,
    );
  });
});

describe('surfaces carry the application fields', () => {
  it('Connect: app, vars, app_label, app_version; an empty prompt means "render the template"', () => {
    const wire = create(WireGenerateRequestSchema, {
      app: 'produce',
      vars: { item: 'lemon' },
      appLabel: 'staging',
      model: 'pixel/sketch',
    });
    const input = fromWireRequest(wire);
    expect(input).toEqual({
      app: 'produce',
      vars: { item: 'lemon' },
      appLabel: 'staging',
      model: 'pixel/sketch',
    });
    expect(parseGenerateRequest(input).app).toBe('produce');
    const plain = fromWireRequest(create(WireGenerateRequestSchema, { prompt: 'a pear' }));
    expect(plain).toEqual({ prompt: 'a pear' });
  });

  it('OpenAI-compatible REST: extra body fields, prompt may be empty with app', () => {
    const { input } = mapOpenAIRequest(
      { prompt: '', app: 'produce', vars: { item: 'lemon' }, appVersion: 2 },
      loadCatalog(),
    );
    expect(input).toMatchObject({ app: 'produce', vars: { item: 'lemon' }, appVersion: 2 });
    expect('prompt' in input).toBe(false);
  });
});
