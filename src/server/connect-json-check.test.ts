import { describe, expect, it } from 'vitest';
import { ImageService } from '../gen/pixel/v1/images_pb.ts';
import { checkConnectJson } from './connect-json-check.ts';

const generate = ImageService.method.generate;

function refused(text: string) {
  const outcome = checkConnectJson(generate, text);
  if (outcome.ok) throw new Error(`accepted ${text}`);
  return outcome.error;
}

describe('Connect JSON bodies checked before Connect decodes them', () => {
  it('names the key whose value the decoder refuses', () => {
    expect(refused('{"prompt":"x","vars":[1]}')).toMatchObject({ field: 'vars', reason: 'undecodable' });
    expect(refused('{"prompt":"x","n":"many"}')).toMatchObject({ field: 'n' });
    const deep = `{"prompt":"x","providerOptions":${'{"a":'.repeat(120)}1${'}'.repeat(120)}}`;
    expect(refused(deep)).toMatchObject({ field: 'providerOptions' });
  });

  it('names the body when it is not JSON or not an object', () => {
    expect(refused('{bad')).toMatchObject({
      field: 'body',
      reason: 'malformed_json',
      code: 'invalid_argument',
    });
    expect(refused('[1,2]')).toMatchObject({ field: 'body', reason: 'not_an_object' });
    expect(refused('null').message).toContain('pixel.v1.GenerateRequest');
  });

  it('passes a good body on as canonical JSON, dropping unknown keys as Connect itself does', () => {
    const outcome = checkConnectJson(generate, '{"prompt":"a pear","width":64,"fromANewerClient":true}');
    expect(outcome).toEqual({ ok: true, json: { prompt: 'a pear', width: 64 } });
  });
});
