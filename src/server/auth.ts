import { createContextKey, type Interceptor } from '@connectrpc/connect';
import type { ApiKeyRepo } from '../catalog/api-keys.ts';
import { PixelError } from '../protocol/errors.ts';
import type { AnonymousAccess } from './anonymous-access.ts';
import { type HeaderBag, type RequestOrigin, requestOrigin, TrustedProxies } from './forwarded.ts';
import type { Caller } from './image-service.ts';
import { toConnectError } from './wire-errors.ts';

/** The team of the anonymous caller of the embedded profile on 127.0.0.1. */
export const LOCAL_TEAM = 'local';
/** Response header naming how an anonymous caller was let in. */
export const AUTH_HEADER = 'pixel-auth';
/** Pixel's keys look like this; a bearer token of another shape is an SDK's placeholder. */
const PIXEL_KEY_RE = /^pxl_/;

export interface AuthInput {
  authorization: string | null | undefined;
  /** The TCP peer's address. */
  peer: string | undefined;
  /** Request headers (the forwarding headers are read). */
  headers: HeaderBag;
}

export interface AuthOutcome {
  caller: Caller;
  origin: RequestOrigin;
  /** Value for the `pixel-auth` response header, for anonymous callers. */
  notice?: string;
}

export interface Authenticator {
  /** The caller of a request; throws PixelError `unauthenticated` (or `resource_exhausted` over a limit). */
  authenticate(input: AuthInput): Promise<AuthOutcome>;
  readonly anonymous: AnonymousAccess;
}

function unauthenticated(message: string): PixelError {
  return new PixelError({ code: 'unauthenticated', reason: 'auth', message });
}

/**
 * Bearer keys checked against their stored hashes. A `pxl_` key that is wrong or revoked is always
 * refused, even where anonymous access is allowed: a caller who sent a key meant to use it. Any other
 * token (OpenAI SDKs insist on one: `apiKey: "x"`) is the anonymous caller while anonymous access lasts,
 * and the answer says so in `pixel-auth`. Anonymous callers are members of team `local`, and only a
 * request from this machine that no proxy forwarded can be one.
 */
export function createAuthenticator(
  keys: Pick<ApiKeyRepo, 'verify'>,
  options: {
    anonymous: AnonymousAccess;
    trustedProxies?: TrustedProxies;
    /** Runs once the caller is known (the per-team request limit); may throw. */
    admit?: (caller: Caller) => Promise<void>;
  },
): Authenticator {
  const trusted = options.trustedProxies ?? new TrustedProxies([]);
  const admit = options.admit ?? (async () => {});
  const resolve = async (input: AuthInput): Promise<AuthOutcome> => {
    const origin = requestOrigin(input.peer, input.headers, trusted);
    const header = input.authorization?.trim() ?? '';
    const anonymousOk = async () => origin.local && (await options.anonymous.allowed());
    if (header === '') {
      if (await anonymousOk())
        return { caller: { team: LOCAL_TEAM, role: 'member' }, origin, notice: 'anonymous' };
      throw unauthenticated(
        origin.local || !(await options.anonymous.allowed())
          ? 'an API key is required: send "Authorization: Bearer pxl_…"'
          : 'an API key is required for requests through a proxy or from another machine: send "Authorization: Bearer pxl_…"',
      );
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthenticated('the Authorization header must be "Bearer <API key>"');
    const token = match[1]!;
    const verified = await keys.verify(token);
    if (verified) return { caller: { team: verified.team, role: verified.role, keyId: verified.id }, origin };
    if (!PIXEL_KEY_RE.test(token) && (await anonymousOk())) {
      return {
        caller: { team: LOCAL_TEAM, role: 'member' },
        origin,
        notice: 'anonymous; bearer token ignored (not a Pixel key)',
      };
    }
    throw unauthenticated('the API key is not valid or has been revoked');
  };
  return {
    anonymous: options.anonymous,
    async authenticate(input) {
      const outcome = await resolve(input);
      await admit(outcome.caller);
      return outcome;
    },
  };
}

/** Where RPC handlers find the caller the interceptor resolved. */
export const CALLER_KEY = createContextKey<Caller | undefined>(undefined, { description: 'pixel caller' });
/** The client's address as far as the server can tell (the peer, or what a trusted proxy forwarded). */
export const CLIENT_IP_KEY = createContextKey<string | undefined>(undefined, {
  description: 'pixel client address',
});
/** The TCP peer's address, set by each server's context values. */
export const PEER_KEY = createContextKey<string | undefined>(undefined, {
  description: 'pixel peer address',
});

const FORWARDING = ['x-forwarded-for', 'forwarded', 'x-real-ip'];

/** Resolves the caller of every RPC before its handler runs (both the HTTP/1.1 and the HTTP/2 server). */
export function authInterceptor(auth: Authenticator): Interceptor {
  return (next) => async (req) => {
    let outcome: AuthOutcome;
    const headers: HeaderBag = {};
    for (const name of FORWARDING) {
      const value = req.header.get(name);
      if (value !== null) headers[name] = value;
    }
    try {
      outcome = await auth.authenticate({
        authorization: req.header.get('authorization'),
        peer: req.contextValues.get(PEER_KEY),
        headers,
      });
    } catch (error) {
      throw toConnectError(error);
    }
    req.contextValues.set(CALLER_KEY, outcome.caller);
    req.contextValues.set(CLIENT_IP_KEY, outcome.origin.ip);
    const res = await next(req);
    if (outcome.notice) res.header.set(AUTH_HEADER, outcome.notice);
    return res;
  };
}

/** The caller of an RPC; a handler reached without the interceptor is a server bug. */
export function callerOf(values: { get<T>(key: { id: symbol; defaultValue: T }): T }): Caller {
  const caller = values.get(CALLER_KEY);
  if (!caller) throw new PixelError({ code: 'internal', message: 'no caller resolved for this request' });
  return caller;
}
