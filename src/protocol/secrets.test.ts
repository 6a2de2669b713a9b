import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { redactSecrets } from './errors.ts';
import { registerSecret, registerSecretsFromEnv } from './secrets.ts';

const fresh = (prefix: string) => `${prefix}${randomBytes(12).toString('hex')}`;

describe('secrets redacted by value', () => {
  it('removes a configured value whatever surrounds it, and its encoded forms', () => {
    const secret = `${fresh('pw')}"/+&`;
    registerSecretsFromEnv({ COMFYUI_API_KEY: secret });
    const forms = [
      secret,
      JSON.stringify(secret).slice(1, -1),
      encodeURIComponent(secret),
      Buffer.from(secret).toString('base64'),
      Buffer.from(secret).toString('base64url'),
    ];
    for (const form of forms) {
      const out = redactSecrets(`upstream said: ${form}.`);
      expect(out).toBe('upstream said: [redacted].');
    }
    // In a JSON log line too.
    expect(redactSecrets(JSON.stringify({ msg: `bad key ${secret}` }))).not.toContain(secret.slice(0, 10));
  });

  it('knows Basic pairs, id:secret halves, URL passwords and names ending in a secret word', () => {
    const password = fresh('webui');
    const falSecret = fresh('fs');
    const dbPassword = fresh('db');
    const custom = fresh('cu');
    registerSecretsFromEnv({
      A1111_USERNAME: 'ops',
      A1111_PASSWORD: password,
      FAL_KEY: `${fresh('fid')}:${falSecret}`,
      DATABASE_URL: `postgres://pixel:${dbPassword}@db.internal:5432/pixel`,
      SOME_VENDOR_API_KEY: custom,
    });
    const basic = Buffer.from(`ops:${password}`).toString('base64');
    expect(redactSecrets(`Authorization: Basic ${basic}`)).not.toContain(basic);
    expect(redactSecrets(`user ops:${password}`)).toBe('user [redacted]');
    expect(redactSecrets(`secret half ${falSecret}`)).toBe('secret half [redacted]');
    expect(redactSecrets(`could not connect with ${dbPassword}`)).toBe('could not connect with [redacted]');
    expect(redactSecrets(`vendor ${custom}`)).toBe('vendor [redacted]');
  });

  it('leaves values too short to redact safely alone, and ordinary text untouched', () => {
    registerSecret('abc');
    registerSecret('5000');
    registerSecret('true');
    registerSecretsFromEnv({ FEATURE_TOKEN: 'on-off' });
    expect(redactSecrets('abc def')).toBe('abc def');
    expect(redactSecrets('{"ms":5000,"ok":true,"mode":"on-off"}')).toBe(
      '{"ms":5000,"ok":true,"mode":"on-off"}',
    );
    expect(redactSecrets('a ribeye steak on slate')).toBe('a ribeye steak on slate');
  });
});
