import { describe, expect, it } from 'vitest';
import { uniqueToken } from './unique.ts';

describe('uniqueToken', () => {
  it('never repeats and uses only base64url characters and dashes', () => {
    const tokens = Array.from({ length: 10_000 }, () => uniqueToken());
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{18,}$/);
  });

  it('starts with a secret of 16 random characters', () => {
    const [a, b] = [uniqueToken(), uniqueToken()];
    expect(a.slice(0, 16)).toBe(b.slice(0, 16));
    expect(a.slice(0, 16)).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });
});
