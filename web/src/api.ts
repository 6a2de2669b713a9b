import { type Client, Code, ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import { ApplicationService } from '../../src/gen/pixel/v1/apps_pb.ts';
import { BatchService } from '../../src/gen/pixel/v1/batches_pb.ts';
import { FinetuneService } from '../../src/gen/pixel/v1/finetunes_pb.ts';
import { ImageService } from '../../src/gen/pixel/v1/images_pb.ts';
import { ModelService } from '../../src/gen/pixel/v1/models_pb.ts';
import { ReviewService } from '../../src/gen/pixel/v1/review_pb.ts';

/** Who the UI talks as: an API key, or the anonymous local caller of the embedded profile. */
export interface Session {
  key?: string;
  team: string;
  role: 'admin' | 'member' | 'viewer';
  anonymous: boolean;
}

export interface Clients {
  images: Client<typeof ImageService>;
  models: Client<typeof ModelService>;
  apps: Client<typeof ApplicationService>;
  batches: Client<typeof BatchService>;
  review: Client<typeof ReviewService>;
  finetunes: Client<typeof FinetuneService>;
}

/** The signed-in session of this browser tab (sessionStorage: gone when the tab closes). */
const SESSION_STORAGE = 'pixel.session';

/** Connect-Web clients on this page's own origin, sending the key (when there is one) on every call. */
export function clientsFor(key: string | undefined): Clients {
  const auth: Interceptor = (next) => async (req) => {
    if (key) req.header.set('Authorization', `Bearer ${key}`);
    return next(req);
  };
  const transport = createConnectTransport({ baseUrl: window.location.origin, interceptors: [auth] });
  return {
    images: createClient(ImageService, transport),
    models: createClient(ModelService, transport),
    apps: createClient(ApplicationService, transport),
    batches: createClient(BatchService, transport),
    review: createClient(ReviewService, transport),
    finetunes: createClient(FinetuneService, transport),
  };
}

/** Asks the server who this key (or no key) is; throws with the server's message when refused. */
export async function fetchSession(key: string | undefined): Promise<Session> {
  const response = await fetch('/ui/session', {
    headers: key ? { Authorization: `Bearer ${key}` } : {},
    cache: 'no-store',
  });
  const body = (await response.json().catch(() => ({}))) as {
    team?: string;
    role?: Session['role'];
    anonymous?: boolean;
    error?: { message?: string };
  };
  if (!response.ok || !body.team || !body.role) {
    throw new Error(body.error?.message ?? `sign-in failed (HTTP ${response.status})`);
  }
  return { key, team: body.team, role: body.role, anonymous: body.anonymous === true };
}

/** The session this tab signed in with, if any (shown at once, and checked with the server meanwhile). */
export function savedSignIn(): Session | undefined {
  try {
    const raw = JSON.parse(sessionStorage.getItem(SESSION_STORAGE) ?? 'null') as Partial<Session> | null;
    if (!raw || typeof raw.team !== 'string' || !['admin', 'member', 'viewer'].includes(String(raw.role)))
      return undefined;
    return {
      ...(typeof raw.key === 'string' && { key: raw.key }),
      team: raw.team,
      role: raw.role as Session['role'],
      anonymous: raw.anonymous === true,
    };
  } catch {
    return undefined;
  }
}

export function saveSignIn(session: Session | undefined): void {
  if (session) sessionStorage.setItem(SESSION_STORAGE, JSON.stringify(session));
  else sessionStorage.removeItem(SESSION_STORAGE);
}

/** A readable line for any error an RPC threw (Connect errors carry Pixel's message). */
export function errorText(error: unknown): string {
  if (error instanceof ConnectError) {
    return error.code === Code.Unauthenticated
      ? `Not signed in: ${error.rawMessage}`
      : `${Code[error.code] ?? 'error'}: ${error.rawMessage}`;
  }
  return error instanceof Error ? error.message : String(error);
}

export function isAborted(error: unknown): boolean {
  return (
    (error instanceof ConnectError && error.code === Code.Canceled) ||
    (error instanceof DOMException && error.name === 'AbortError')
  );
}

/** The server has no such service (it is not built, or not registered on this server). */
export function isUnimplemented(error: unknown): boolean {
  return error instanceof ConnectError && error.code === Code.Unimplemented;
}
