import { BlockList, isIP } from 'node:net';
import { PixelError } from '../protocol/errors.ts';

/** Where a request came from, as far as this server can tell. */
export interface RequestOrigin {
  /** The client's address: the peer, or (from a trusted proxy) the nearest untrusted hop it forwarded for. */
  ip: string;
  /** The request carried forwarding headers (it came through a proxy, trusted or not). */
  proxied: boolean;
  /** The peer is a loopback address and the request was not proxied: only such a request counts as local. */
  local: boolean;
}

/** Headers a proxy adds; any of them makes a request "proxied" (never local). */
const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'] as const;

export type HeaderBag = Record<string, string | string[] | undefined>;

/** Strips `::ffff:` from IPv4-mapped IPv6 addresses and brackets/ports from forwarded values. */
function normaliseAddress(raw: string): string {
  let value = raw.trim();
  if (value.startsWith('[')) value = value.slice(1, value.indexOf(']') > 0 ? value.indexOf(']') : undefined);
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(':'));
  if (value.toLowerCase().startsWith('::ffff:') && isIP(value.slice(7)) === 4) value = value.slice(7);
  return value;
}

export function isLoopback(address: string): boolean {
  const ip = normaliseAddress(address);
  return ip === '::1' || (isIP(ip) === 4 && ip.startsWith('127.'));
}

/** A set of proxy addresses and CIDR ranges (PIXEL_TRUSTED_PROXIES: comma-separated). */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address, bits, extra] = entry.split('/');
      const ip = normaliseAddress(address ?? '');
      const family = isIP(ip);
      const prefix = bits === undefined ? undefined : Number(bits);
      const max = family === 4 ? 32 : 128;
      if (
        family === 0 ||
        extra !== undefined ||
        (prefix !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= max))
      ) {
        throw new PixelError({
          code: 'invalid_argument',
          reason: 'config',
          field: 'PIXEL_TRUSTED_PROXIES',
          message: `PIXEL_TRUSTED_PROXIES entries must be IP addresses or CIDR ranges, not "${entry}"`,
        });
      }
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) this.#list.addAddress(ip, type);
      else this.#list.addSubnet(ip, prefix, type);
    }
    this.size = entries.length;
  }

  static parse(raw: string | undefined): TrustedProxies {
    const entries = (raw ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return new TrustedProxies(entries);
  }

  has(address: string): boolean {
    const ip = normaliseAddress(address);
    const family = isIP(ip);
    if (family === 0) return false;
    return this.#list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }
}

function headerValues(headers: HeaderBag, name: string): string[] {
  const value = headers[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The `for=` addresses of RFC 7239 `Forwarded` headers, nearest client first. */
function forwardedFor(values: string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    for (const element of value.split(',')) {
      for (const pair of element.split(';')) {
        const [k, v] = pair.split('=');
        if (k?.trim().toLowerCase() === 'for' && v) out.push(v.trim().replace(/^"|"$/g, ''));
      }
    }
  }
  return out;
}

/**
 * The client of a request. Forwarding headers are believed only when the peer is a trusted proxy: then
 * the client is the right-most address in the chain that is not itself a trusted proxy. A request with
 * forwarding headers is never local, whoever sent it: a reverse proxy on the same machine connects from
 * 127.0.0.1 on behalf of callers anywhere.
 */
export function requestOrigin(
  peer: string | undefined,
  headers: HeaderBag,
  trusted: TrustedProxies,
): RequestOrigin {
  const peerIp = normaliseAddress(peer ?? '');
  const proxied = FORWARDING_HEADERS.some((name) => headerValues(headers, name).length > 0);
  let ip = peerIp;
  if (proxied && trusted.has(peerIp)) {
    const chain = [
      ...forwardedFor(headerValues(headers, 'forwarded')),
      ...headerValues(headers, 'x-forwarded-for').flatMap((v) => v.split(',')),
    ]
      .map((s) => normaliseAddress(s))
      .filter((s) => isIP(s) !== 0);
    for (let i = chain.length - 1; i >= 0; i--) {
      ip = chain[i]!;
      if (!trusted.has(ip)) break;
    }
  }
  return { ip, proxied, local: !proxied && isLoopback(peerIp) };
}
