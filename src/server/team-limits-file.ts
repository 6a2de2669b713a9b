import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { configError } from '../platform/config.ts';

/** Limits of one team; a missing field falls back to PIXEL_TEAM_RPM / PIXEL_TEAM_CONCURRENCY. */
export interface TeamLimitOverride {
  rpm?: number;
  concurrency?: number;
}

const TEAM_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const Limit = z.number().int().min(0).max(1_000_000);
const FileSchema = z
  .object({
    teams: z.record(
      z.string().regex(TEAM_RE, 'team names are 1-64 lowercase letters, digits, ".", "_" or "-"'),
      z.object({ rpm: Limit.optional(), concurrency: Limit.optional() }).strict(),
    ),
  })
  .strict();

/**
 * PIXEL_TEAM_LIMITS_FILE: per-team limits as data.
 *
 *   teams:
 *     grocery: { rpm: 1200, concurrency: 16 }
 *     pharmacy: { rpm: 60 }        # concurrency: the default
 *
 * 0 means no limit for that team. A bad file stops the server at start, naming the entry at fault.
 */
export function loadTeamLimitsFile(path: string): Record<string, TeamLimitOverride> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw configError(
      'PIXEL_TEAM_LIMITS_FILE',
      `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let data: unknown;
  try {
    data = parse(text, { maxAliasCount: 0 });
  } catch (error) {
    throw configError(
      'PIXEL_TEAM_LIMITS_FILE',
      `is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  const result = FileSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw configError('PIXEL_TEAM_LIMITS_FILE', `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return result.data.teams;
}
