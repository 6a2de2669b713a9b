import type { Clock } from '../providers/reliability/clock.ts';

/**
 * Whether a caller without a key is served (as a member of team `local`). Off unless the embedded profile
 * is bound to loopback without PIXEL_REQUIRE_KEYS; then on until the first team key exists (anyone who
 * creates team keys wants them used), unless PIXEL_ALLOW_ANONYMOUS=true keeps it on. Once it has ended
 * it stays ended for the life of the process (revoking the team keys does not reopen it).
 */
export interface AnonymousAccess {
  allowed(): Promise<boolean>;
  /** For the start-up line. */
  describe(): string;
}

export function createAnonymousAccess(options: {
  /** The profile allows anonymous callers at all (embedded, loopback, keys not required). */
  enabled: boolean;
  /** PIXEL_ALLOW_ANONYMOUS=true: stay on even when team keys exist. */
  always: boolean;
  /** True once any team key (other than the bootstrap admin key) has been created. */
  teamKeysExist: () => Promise<boolean>;
  clock: Pick<Clock, 'now'>;
  /** How long an answer of teamKeysExist is believed (keys created by another process show up within this). */
  recheckMs: number;
}): AnonymousAccess {
  let ended = !options.enabled;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<boolean> | undefined;
  const check = async (): Promise<boolean> => {
    if (ended) return false;
    if (options.always) return true;
    if (options.clock.now() - checkedAt < options.recheckMs) return true;
    pending ??= options
      .teamKeysExist()
      .then((exist) => {
        if (exist) ended = true;
        else checkedAt = options.clock.now();
        return !exist;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
  return {
    allowed: check,
    describe() {
      if (!options.enabled) return 'API keys required (Authorization: Bearer pxl_…)';
      if (ended)
        return 'API keys required: team keys exist, so anonymous access has ended (PIXEL_ALLOW_ANONYMOUS=true keeps it)';
      const base =
        'anonymous access on: callers on this machine without a Pixel key are members of team "local" (embedded profile on 127.0.0.1; PIXEL_REQUIRE_KEYS=true requires keys)';
      return options.always
        ? `${base}; PIXEL_ALLOW_ANONYMOUS=true keeps this on even when team keys exist`
        : `${base}; this ends by itself once a team key is created (pixel keys create), unless PIXEL_ALLOW_ANONYMOUS=true`;
    },
  };
}
