import { createContextKey, type Interceptor } from '@connectrpc/connect';
import type { ApiKeyRepo } from '../catalog/api-keys.ts';
import { PixelError } from '../protocol/errors.ts';
import type { Caller } from './image-service.ts';
import { toConnectError } from './wire-errors.ts';

/** The team of the anonymous caller of the embedded profile on 127.0.0.1. */
export const LOCAL_TEAM = 'local';

export interface Authenticator {
  /** `Authorization` header value (or null) → the caller; throws PixelError `unauthenticated`. */
  authenticate(authorization: string | null | undefined): Promise<Caller>;
  readonly anonymousAllowed: boolean;
}

function unauthenticated(message: string): PixelError {
  return new PixelError({ code: 'unauthenticated', reason: 'auth', message });
}

/**
 * Bearer `pxl_…` keys checked against their stored hashes. A key that is present but wrong or revoked is
 * always refused, even where anonymous access is allowed: a caller who sent a key meant to use it.
 */
export function createAuthenticator(
  keys: Pick<ApiKeyRepo, 'verify'>,
  options: { anonymousAllowed: boolean },
): Authenticator {
  const anonymous: Caller = { team: LOCAL_TEAM, role: 'admin' };
  return {
    anonymousAllowed: options.anonymousAllowed,
    async authenticate(authorization) {
      const header = authorization?.trim() ?? '';
      if (header === '') {
        if (options.anonymousAllowed) return anonymous;
        throw unauthenticated('an API key is required: send "Authorization: Bearer pxl_…"');
      }
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw unauthenticated('the Authorization header must be "Bearer <API key>"');
      const verified = await keys.verify(match[1]!);
      if (!verified) throw unauthenticated('the API key is not valid or has been revoked');
      return { team: verified.team, role: verified.role, keyId: verified.id };
    },
  };
}

/** Where RPC handlers find the caller the interceptor resolved. */
export const CALLER_KEY = createContextKey<Caller | undefined>(undefined, { description: 'pixel caller' });

/** Resolves the caller of every RPC before its handler runs (both the HTTP/1.1 and the HTTP/2 server). */
export function authInterceptor(auth: Authenticator): Interceptor {
  return (next) => async (req) => {
    let caller: Caller;
    try {
      caller = await auth.authenticate(req.header.get('authorization'));
    } catch (error) {
      throw toConnectError(error);
    }
    req.contextValues.set(CALLER_KEY, caller);
    return next(req);
  };
}

/** The caller of an RPC; a handler reached without the interceptor is a server bug. */
export function callerOf(values: { get<T>(key: { id: symbol; defaultValue: T }): T }): Caller {
  const caller = values.get(CALLER_KEY);
  if (!caller) throw new PixelError({ code: 'internal', message: 'no caller resolved for this request' });
  return caller;
}
