import { describe, expect, it } from 'vitest';
import { isLoopback, requestOrigin, TrustedProxies } from './forwarded.ts';

describe('requestOrigin', () => {
  const none = TrustedProxies.parse('');
  const trusted = TrustedProxies.parse('10.0.0.0/8, 192.168.1.7, fd00::/8');

  it('a loopback peer without forwarding headers is local', () => {
    expect(requestOrigin('127.0.0.1', {}, none)).toEqual({ ip: '127.0.0.1', proxied: false, local: true });
    expect(requestOrigin('::ffff:127.0.0.1', {}, none).local).toBe(true);
    expect(requestOrigin('::1', {}, none).local).toBe(true);
    expect(requestOrigin('192.168.1.20', {}, none).local).toBe(false);
  });

  it('a proxied request is never local, even from 127.0.0.1 or a trusted proxy', () => {
    expect(requestOrigin('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' }, none)).toEqual({
      ip: '127.0.0.1',
      proxied: true,
      local: false,
    });
    expect(
      requestOrigin('127.0.0.1', { forwarded: 'for=127.0.0.1' }, TrustedProxies.parse('127.0.0.1')).local,
    ).toBe(false);
    expect(requestOrigin('127.0.0.1', { 'x-real-ip': '127.0.0.1' }, none).local).toBe(false);
  });

  it('believes X-Forwarded-For only from a trusted proxy', () => {
    // Untrusted peer: the header is ignored for the address.
    expect(requestOrigin('198.51.100.4', { 'x-forwarded-for': '1.2.3.4' }, trusted).ip).toBe('198.51.100.4');
    // Trusted peer: the right-most untrusted hop (a client cannot spoof past the proxies).
    expect(
      requestOrigin('10.1.2.3', { 'x-forwarded-for': '6.6.6.6, 203.0.113.9, 10.9.9.9' }, trusted).ip,
    ).toBe('203.0.113.9');
    expect(
      requestOrigin('192.168.1.7', { forwarded: 'for="[2001:db8::1]:4711";proto=https' }, trusted).ip,
    ).toBe('2001:db8::1');
    expect(requestOrigin('fd00::5', { 'x-forwarded-for': ['203.0.113.1:5555'] }, trusted).ip).toBe(
      '203.0.113.1',
    );
  });

  it('refuses malformed proxy entries naming the variable', () => {
    expect(() => TrustedProxies.parse('10.0.0.0/33')).toThrow(/PIXEL_TRUSTED_PROXIES/);
    expect(() => TrustedProxies.parse('proxy.example')).toThrow(/PIXEL_TRUSTED_PROXIES/);
  });

  it('knows loopback addresses', () => {
    expect(isLoopback('127.8.0.1')).toBe(true);
    expect(isLoopback('128.0.0.1')).toBe(false);
    expect(isLoopback('')).toBe(false);
  });
});
