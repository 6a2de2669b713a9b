import { configError } from '../platform/config.ts';
import { isLoopback } from './forwarded.ts';

/** Host names every server answers to, at any port. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** `Host` (or `:authority`) → the lower-case name without port, or undefined when it is not a host. */
export function hostName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const host = value.trim().toLowerCase();
  if (host === '' || /[\s/@\\?#]/.test(host)) return undefined;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) return undefined;
    const rest = host.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    return host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  const name = colon >= 0 ? host.slice(0, colon) : host;
  if (colon >= 0 && !/^\d{1,5}$/.test(host.slice(colon + 1))) return undefined;
  return name.replace(/\.$/, '') || undefined;
}

/**
 * Which `Host` values the server answers. A web page can point its own name at 127.0.0.1 (DNS rebinding)
 * and make the browser call the server as that name; refusing names the operator did not list stops it.
 */
export interface HostAllowlist {
  allows(host: string | undefined): boolean;
  /** For the start-up line. */
  describe(): string;
}

export function createHostAllowlist(options: {
  /** The address the server is bound to. */
  bindHost: string;
  /** PIXEL_ALLOWED_HOSTS, as given (names, optionally with a port that is ignored). */
  allowedHosts: readonly string[];
  /** Every request needs an API key (PIXEL_REQUIRE_KEYS or the production profile). */
  requireKeys: boolean;
}): HostAllowlist {
  const extra = options.allowedHosts.map((h) => hostName(h)).filter((h): h is string => h !== undefined);
  const loopbackBind = isLoopback(options.bindHost) || options.bindHost === 'localhost';
  if (!loopbackBind && extra.length === 0) {
    // Reachable from other machines by any name they use; only safe when every request needs a key.
    if (!options.requireKeys) {
      throw configError(
        'PIXEL_ALLOWED_HOSTS',
        `must name the host names clients use when PIXEL_HOST (${options.bindHost}) is not a loopback address, unless API keys are required (PIXEL_REQUIRE_KEYS=true or DATABASE_URL)`,
      );
    }
    return { allows: (host) => hostName(host) !== undefined, describe: () => 'any (API keys required)' };
  }
  const names = new Set([...LOOPBACK_NAMES, ...extra]);
  return {
    allows: (host) => {
      const name = hostName(host);
      return name !== undefined && names.has(name);
    },
    describe: () => [...names].join(', '),
  };
}
