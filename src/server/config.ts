import { configError, isSet, type PlatformConfig, platformConfigFromEnv } from '../platform/config.ts';
import { parseCorsOrigins } from './cors.ts';
import { TrustedProxies } from './forwarded.ts';
import type { TeamLimitSettings } from './team-limits.ts';
import { loadTeamLimitsFile } from './team-limits-file.ts';

/** Everything the server reads from the environment, parsed and checked once at start. */
export interface ServerConfig extends PlatformConfig {
  port: number;
  host: string;
  /** Bootstrap admin key (PIXEL_ADMIN_KEY). */
  adminKey?: string;
  /** Force API keys even for the embedded profile on 127.0.0.1. */
  requireKeys: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** 0 turns the periodic orphan sweeper off. */
  sweepIntervalMs: number;
  /** Blobs younger than this are never swept (their row may be about to be written). */
  sweepGraceMs: number;
  /** How long shutdown waits for in-flight requests before cutting connections. */
  shutdownTimeoutMs: number;
  /**
   * How long a verified API key is remembered (ms; 0 = ask the catalogue on every request). A key revoked
   * in this process is refused at once; one revoked by another process (the CLI) within this time.
   */
  keyCacheMs: number;
  /**
   * gRPC over HTTP/2 cleartext shares the HTTP port: the first bytes of each connection are peeked and an
   * HTTP/2 client preface goes to the HTTP/2 server, anything else to Fastify's HTTP/1.1 server.
   */
  grpcSharesPort: true;
  /** PIXEL_ALLOW_ANONYMOUS: keep serving callers without a key even once team keys exist. */
  allowAnonymous: boolean;
  /** PIXEL_ALLOWED_HOSTS: host names served besides localhost, 127.0.0.1 and [::1]. */
  allowedHosts: string[];
  /** PIXEL_CORS_ORIGINS: browser origins allowed to call (Connect-Web, gRPC-Web); none by default. */
  corsOrigins: string[];
  /** PIXEL_TRUSTED_PROXIES: addresses or CIDR ranges whose X-Forwarded-For is believed. */
  trustedProxies: string[];
  /** Per-team and per-key limits; 0 = none. */
  limits: TeamLimitSettings;
}

const list = (raw: string | undefined): string[] =>
  (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The variables `pixel serve` reads, for the README (the store and providers have their own tables). */
export const SERVER_ENV_VARS: ReadonlyArray<{ name: string; default: string; description: string }> = [
  {
    name: 'PIXEL_PORT',
    default: '8080',
    description:
      'Port for every surface: HTTP/1.1 (REST, Connect, gRPC-Web) and gRPC over HTTP/2 cleartext on the same port (the HTTP/2 preface is detected per connection). 0 picks a free port.',
  },
  {
    name: 'PIXEL_HOST',
    default: '127.0.0.1',
    description:
      'Interface to bind. Anything but 127.0.0.1 requires API keys, and PIXEL_ALLOWED_HOSTS unless PIXEL_REQUIRE_KEYS=true.',
  },
  {
    name: 'PIXEL_DATA_DIR',
    default: './data',
    description: 'Embedded catalogue (`<dir>/pglite`) and local blobs (`<dir>/blobs`).',
  },
  {
    name: 'PIXEL_PUBLIC_URL',
    default: 'http://<host>:<port>',
    description: 'Base URL clients reach the server at; local image URLs are `<url>/files/<key>`.',
  },
  {
    name: 'DATABASE_URL',
    default: '(embedded PGlite)',
    description: 'PostgreSQL URL: the production profile. API keys are then always required.',
  },
  {
    name: 'PIXEL_ADMIN_KEY',
    default: '(generated once)',
    description:
      'Bootstrap admin key (team `admin`). Without it, the first start creates one and prints it once on stderr.',
  },
  {
    name: 'PIXEL_REQUIRE_KEYS',
    default: 'false',
    description: 'Require `Authorization: Bearer pxl_…` even in the embedded profile on 127.0.0.1.',
  },
  { name: 'PIXEL_LOG_LEVEL', default: 'info', description: `JSON log level: ${LOG_LEVELS.join(', ')}.` },
  {
    name: 'PIXEL_SWEEP_INTERVAL_MS',
    default: '3600000',
    description: 'How often orphan blobs (no catalogue row) are swept; 0 = never (use `pixel sweep`).',
  },
  {
    name: 'PIXEL_SWEEP_GRACE_MS',
    default: '7200000',
    description: 'Minimum age of a blob before the sweeper may delete it.',
  },
  {
    name: 'PIXEL_SHUTDOWN_TIMEOUT_MS',
    default: '30000',
    description: 'On SIGTERM/SIGINT, how long in-flight requests may run before connections are cut.',
  },
  {
    name: 'PIXEL_ALLOW_ANONYMOUS',
    default: 'false',
    description:
      'Keep serving callers without a key (members of team `local`) even once team keys exist; without it anonymous access ends when the first team key is created.',
  },
  {
    name: 'PIXEL_ALLOWED_HOSTS',
    default: '(none)',
    description:
      'Comma-separated host names served besides localhost, 127.0.0.1 and [::1] (any port); other Host / :authority values get 421. Required when PIXEL_HOST is not a loopback address, unless keys are required.',
  },
  {
    name: 'PIXEL_CORS_ORIGINS',
    default: '(none)',
    description:
      'Comma-separated browser origins (https://app.example.com) allowed to call Connect-Web / gRPC-Web, preflight included; other cross-origin requests get 403.',
  },
  {
    name: 'PIXEL_TRUSTED_PROXIES',
    default: '(none)',
    description:
      'Comma-separated proxy addresses or CIDR ranges whose X-Forwarded-For is believed; a forwarded request never counts as local.',
  },
  {
    name: 'PIXEL_TEAM_RPM',
    default: '0',
    description: 'Requests per minute per team, across every process sharing the database (0 = no limit).',
  },
  {
    name: 'PIXEL_TEAM_CONCURRENCY',
    default: '0',
    description:
      'Generations running at once per team, across every process sharing the database (0 = no limit).',
  },
  {
    name: 'PIXEL_TEAM_LIMITS_FILE',
    default: '(none)',
    description:
      'YAML of per-team limits (`teams: { grocery: { rpm: 1200, concurrency: 16 } }`) instead of PIXEL_TEAM_RPM / PIXEL_TEAM_CONCURRENCY; 0 = no limit for that team.',
  },
  { name: 'PIXEL_KEY_RPM', default: '0', description: 'Requests per minute per API key (0 = no limit).' },
  {
    name: 'PIXEL_KEY_CONCURRENCY',
    default: '0',
    description: 'Generations running at once per API key (0 = no limit).',
  },
  {
    name: 'PIXEL_KEY_CACHE_MS',
    default: '5000',
    description:
      'How long a verified API key is remembered instead of looked up again; a key revoked with `pixel keys revoke` (another process) is refused within this time. 0 = look up every request.',
  },
];

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (!isSet(raw)) return fallback;
  const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!(value >= min && value <= max))
    throw configError(name, `must be a whole number from ${min} to ${max}, not "${raw}"`);
  return value;
}

function bool(env: Env, name: string): boolean {
  const raw = env[name];
  if (!isSet(raw)) return false;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw configError(name, `must be true or false, not "${raw}"`);
}

/** The entries of PIXEL_TRUSTED_PROXIES, checked. */
function trustedProxyList(raw: string | undefined): string[] {
  TrustedProxies.parse(raw);
  return list(raw);
}

/** Reads the server settings; a bad value throws a PixelError naming the variable (never echoing secrets). */
export function serverConfigFromEnv(env: Env = process.env): ServerConfig {
  const host = isSet(env.PIXEL_HOST) ? env.PIXEL_HOST.trim() : '127.0.0.1';
  if (!/^[A-Za-z0-9.:_-]{1,253}$/.test(host))
    throw configError('PIXEL_HOST', 'is not a host name or address');
  const logLevel = (
    isSet(env.PIXEL_LOG_LEVEL) ? env.PIXEL_LOG_LEVEL.trim().toLowerCase() : 'info'
  ) as ServerConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel))
    throw configError('PIXEL_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  return {
    port: int(env, 'PIXEL_PORT', 8080, 0, 65535),
    host,
    ...platformConfigFromEnv(env),
    ...(isSet(env.PIXEL_ADMIN_KEY) && { adminKey: env.PIXEL_ADMIN_KEY.trim() }),
    requireKeys: bool(env, 'PIXEL_REQUIRE_KEYS'),
    logLevel,
    sweepIntervalMs: int(env, 'PIXEL_SWEEP_INTERVAL_MS', 3_600_000, 0, 2_147_483_647),
    // Longer than the stores' 1 h refresh of a re-written blob's timestamp, so a blob about to get a new row is never swept.
    sweepGraceMs: int(env, 'PIXEL_SWEEP_GRACE_MS', 7_200_000, 0, 2_147_483_647),
    shutdownTimeoutMs: int(env, 'PIXEL_SHUTDOWN_TIMEOUT_MS', 30_000, 0, 600_000),
    keyCacheMs: int(env, 'PIXEL_KEY_CACHE_MS', 5_000, 0, 600_000),
    grpcSharesPort: true,
    allowAnonymous: bool(env, 'PIXEL_ALLOW_ANONYMOUS'),
    allowedHosts: list(env.PIXEL_ALLOWED_HOSTS),
    corsOrigins: parseCorsOrigins(env.PIXEL_CORS_ORIGINS),
    trustedProxies: trustedProxyList(env.PIXEL_TRUSTED_PROXIES),
    limits: {
      teamRpm: int(env, 'PIXEL_TEAM_RPM', 0, 0, 1_000_000),
      teamConcurrency: int(env, 'PIXEL_TEAM_CONCURRENCY', 0, 0, 100_000),
      keyRpm: int(env, 'PIXEL_KEY_RPM', 0, 0, 1_000_000),
      keyConcurrency: int(env, 'PIXEL_KEY_CONCURRENCY', 0, 0, 100_000),
      ...(isSet(env.PIXEL_TEAM_LIMITS_FILE) && {
        teams: loadTeamLimitsFile(env.PIXEL_TEAM_LIMITS_FILE.trim()),
      }),
    },
  };
}

/** Anonymous access (no key) is allowed only for the embedded profile bound to the loopback address. */
export function allowsAnonymous(config: Pick<ServerConfig, 'host' | 'requireKeys' | 'databaseUrl'>): boolean {
  return !config.requireKeys && config.databaseUrl === undefined && config.host === '127.0.0.1';
}
