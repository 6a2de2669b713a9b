import type { ApiKeyRepo } from '../catalog/api-keys.ts';
import type { Db } from '../catalog/db.ts';
import type { Clock } from '../providers/reliability/clock.ts';
import { createAnonymousAccess } from './anonymous-access.ts';
import { type Authenticator, createAuthenticator } from './auth.ts';
import { allowsAnonymous, type ServerConfig } from './config.ts';
import { createCorsPolicy } from './cors.ts';
import { TrustedProxies } from './forwarded.ts';
import { createHostAllowlist, type HostAllowlist } from './host-allowlist.ts';
import type { ServerMetrics } from './metrics.ts';
import { createRequestGate, type RequestGate } from './request-gate.ts';
import { createTeamLimiter, type TeamLimiter } from './team-limits.ts';

type AccessConfig = Pick<
  ServerConfig,
  | 'host'
  | 'requireKeys'
  | 'databaseUrl'
  | 'allowAnonymous'
  | 'allowedHosts'
  | 'corsOrigins'
  | 'trustedProxies'
  | 'keyCacheMs'
  | 'limits'
  | 'publicUrl'
>;

/** Keys are needed for every request: PIXEL_REQUIRE_KEYS or the production profile. */
const keysRequired = (config: AccessConfig) => config.requireKeys || config.databaseUrl !== undefined;

/**
 * The checks before routing (Host allowlist, CORS). Throws a config error (before anything listens) for
 * a non-loopback binding without PIXEL_ALLOWED_HOSTS unless keys are required.
 */
export function requestGateFor(config: AccessConfig): RequestGate & { hosts: HostAllowlist } {
  const hosts = createHostAllowlist({
    bindHost: config.host,
    // The host of PIXEL_PUBLIC_URL is where the operator said clients reach this server.
    allowedHosts: [...config.allowedHosts, ...(config.publicUrl ? [new URL(config.publicUrl).host] : [])],
    requireKeys: keysRequired(config),
  });
  return Object.assign(createRequestGate({ hosts, cors: createCorsPolicy(config.corsOrigins) }), { hosts });
}

export interface Access {
  auth: Authenticator;
  limiter: TeamLimiter;
  /** The start-up line's auth part. */
  describe(): Promise<string>;
  close(): void;
}

/** Who may call and how much: the authenticator (keys, anonymous access, proxies) and the team limits. */
export function createAccess(
  config: AccessConfig,
  deps: { db: Db; keys: ApiKeyRepo; metrics: ServerMetrics; clock?: Pick<Clock, 'now'> },
): Access {
  const clock = deps.clock ?? { now: () => Date.now() };
  const limiter = createTeamLimiter({
    db: deps.db,
    settings: config.limits,
    clock,
    onRejected: (team, kind) => deps.metrics.limitRejected(team, kind),
  });
  const anonymous = createAnonymousAccess({
    enabled: allowsAnonymous(config),
    always: config.allowAnonymous,
    teamKeysExist: () => deps.keys.hasTeamKeys(),
    clock,
    recheckMs: config.keyCacheMs,
  });
  const auth = createAuthenticator(deps.keys, {
    anonymous,
    trustedProxies: TrustedProxies.parse(config.trustedProxies.join(',')),
    admit: (caller) => limiter.admitRequest(caller),
  });
  return {
    auth,
    limiter,
    async describe() {
      await anonymous.allowed();
      return anonymous.describe();
    },
    close: () => limiter.close(),
  };
}
