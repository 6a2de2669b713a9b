import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeBase64Bytes, parseJsonLiftingBase64 } from './json-lift.ts';

const image = randomBytes(200_000); // several 64 KB slices once encoded
const b64 = image.toString('base64');

describe('parseJsonLiftingBase64', () => {
  it('lifts every base64 member out of the JSON and decodes it from the bytes', () => {
    const other = randomBytes(1000);
    const text = JSON.stringify({
      created: 1,
      data: [
        { b64_json: b64, revised_prompt: 'a "b64_json":"trap" in a string' },
        { b64_json: other.toString('base64') },
      ],
      usage: { total_tokens: 3 },
    });
    const { value, bytes } = parseJsonLiftingBase64(Buffer.from(` ${text}\n`), 'b64_json');
    const parsed = value as { data: Array<{ b64_json: string; revised_prompt?: string }>; usage: unknown };
    expect(Buffer.from(bytes(parsed.data[0]!.b64_json)!).equals(image)).toBe(true);
    expect(Buffer.from(bytes(parsed.data[1]!.b64_json)!).equals(other)).toBe(true);
    expect(parsed.data[0]!.b64_json.length).toBeLessThan(100);
    expect(parsed.data[0]!.revised_prompt).toBe('a "b64_json":"trap" in a string');
    expect(parsed.usage).toEqual({ total_tokens: 3 });
    expect(bytes('anything else')).toBeUndefined();
  });

  it('leaves values it cannot lift in the JSON, parsed as usual', () => {
    // JSON may escape "/" as "\/": such a value stays a string for the caller to decode.
    const escaped = `{"data":[{"b64_json":"${b64.replaceAll('/', '\\/')}"}]}`;
    const { value, bytes } = parseJsonLiftingBase64(Buffer.from(escaped), 'b64_json');
    const kept = (value as { data: Array<{ b64_json: string }> }).data[0]!.b64_json;
    expect(kept).toBe(b64);
    expect(bytes(kept)).toBeUndefined();
    // Not a member (a value, a key inside a string): untouched.
    const tricky = '{"a":"b64_json","b":["b64_json"],"c\\"b64_json":"x"}';
    expect(parseJsonLiftingBase64(Buffer.from(tricky), 'b64_json').value).toEqual(JSON.parse(tricky));
  });

  it('throws SyntaxError on a body that is not JSON', () => {
    expect(() => parseJsonLiftingBase64(Buffer.from('<html>oops</html>'), 'b64_json')).toThrow(SyntaxError);
    expect(() => parseJsonLiftingBase64(Buffer.from(`{"b64_json":"${b64}"`), 'b64_json')).toThrow(
      SyntaxError,
    );
  });
});

describe('decodeBase64Bytes', () => {
  const decode = (text: string) =>
    Buffer.from(decodeBase64Bytes(Buffer.from(text, 'latin1'), 0, text.length));

  it('decodes plain base64 of any length, padded or not, like Buffer.from', () => {
    for (const n of [0, 1, 2, 3, 49_151, 49_152, 49_153, 200_000]) {
      const bytes = randomBytes(n);
      expect(decode(bytes.toString('base64')).equals(bytes)).toBe(true);
    }
  });

  it('falls back to a whole decode for irregular text (stray characters, whitespace)', () => {
    const spaced = `${b64.slice(0, 70_000)}\n${b64.slice(70_000)}`;
    expect(decode(spaced).equals(Buffer.from(spaced, 'base64'))).toBe(true);
    const stray = `${b64.slice(0, 65_536)}*${b64.slice(65_536, -1)}`;
    expect(decode(stray).equals(Buffer.from(stray, 'base64'))).toBe(true);
  });
});
