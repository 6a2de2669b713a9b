import { describe, expect, it } from 'vitest';
import { ManualClock } from '../providers/reliability/manual-clock.ts';
import { createAnonymousAccess } from './anonymous-access.ts';

describe('anonymous access', () => {
  it('is off for profiles that do not allow it, whatever the keys', async () => {
    let asked = 0;
    const access = createAnonymousAccess({
      enabled: false,
      always: true,
      teamKeysExist: async () => {
        asked++;
        return false;
      },
      clock: new ManualClock(),
      recheckMs: 1000,
    });
    expect(await access.allowed()).toBe(false);
    expect(asked).toBe(0);
    expect(access.describe()).toMatch(/API keys required/);
  });

  it('ends for good once a team key exists, checking at most once per recheck interval', async () => {
    const clock = new ManualClock();
    let exist = false;
    let asked = 0;
    const access = createAnonymousAccess({
      enabled: true,
      always: false,
      teamKeysExist: async () => {
        asked++;
        return exist;
      },
      clock,
      recheckMs: 5000,
    });
    expect(await Promise.all([access.allowed(), access.allowed(), access.allowed()])).toEqual([
      true,
      true,
      true,
    ]);
    expect(asked).toBe(1);
    exist = true;
    clock.advance(4999);
    expect(await access.allowed()).toBe(true); // still believed
    clock.advance(1);
    expect(await access.allowed()).toBe(false);
    exist = false; // the key was revoked: anonymous access stays ended
    clock.advance(60_000);
    expect(await access.allowed()).toBe(false);
    expect(asked).toBe(2);
    expect(access.describe()).toMatch(/has ended/);
  });

  it('stays on with PIXEL_ALLOW_ANONYMOUS and says so', async () => {
    const access = createAnonymousAccess({
      enabled: true,
      always: true,
      teamKeysExist: async () => true,
      clock: new ManualClock(),
      recheckMs: 0,
    });
    expect(await access.allowed()).toBe(true);
    expect(access.describe()).toMatch(/PIXEL_ALLOW_ANONYMOUS=true keeps this on/);
  });
});
