import { decodeCursor } from '../../catalog/cursor.ts';
import {
  IMAGE_STATUSES,
  type ImageStatus,
  type ListImagesOptions,
  MAX_LIST_LIMIT,
} from '../../catalog/images.ts';
import { invalidArgument } from '../../protocol/errors.ts';

/** The filters of ListImages as flags. */
export interface ListFlags {
  app?: string;
  model?: string;
  team?: string;
  status?: string;
  after?: string;
  before?: string;
  prompt?: string;
  accepted?: string;
  parent?: string;
  limit: string;
  pageToken?: string;
  json?: boolean;
}

export const DEFAULT_LIMIT = 50;

/** Flags → the catalogue's list options, each bad value refused naming its flag. */
export function listOptionsFromFlags(flags: ListFlags): ListImagesOptions {
  if (!/^\d+$/.test(flags.limit) || Number(flags.limit) < 1 || Number(flags.limit) > MAX_LIST_LIMIT) {
    throw invalidArgument('limit', `--limit must be from 1 to ${MAX_LIST_LIMIT}, got "${flags.limit}"`);
  }
  if (flags.status !== undefined && !IMAGE_STATUSES.includes(flags.status as ImageStatus)) {
    throw invalidArgument(
      'status',
      `--status must be one of ${IMAGE_STATUSES.join(', ')}, got "${flags.status}"`,
    );
  }
  if (flags.accepted !== undefined && flags.accepted !== 'true' && flags.accepted !== 'false') {
    throw invalidArgument('accepted', `--accepted must be true or false, got "${flags.accepted}"`);
  }
  if (flags.prompt !== undefined && flags.prompt.length > 500) {
    throw invalidArgument('prompt', '--prompt must be at most 500 characters');
  }
  if (flags.pageToken !== undefined) decodeCursor(flags.pageToken, 'page-token');
  return {
    limit: Number(flags.limit),
    ...(flags.pageToken !== undefined && { cursor: flags.pageToken }),
    ...(flags.app !== undefined && { application: flags.app }),
    ...(flags.model !== undefined && { model: flags.model }),
    ...(flags.team !== undefined && { team: flags.team }),
    ...(flags.status !== undefined && { status: flags.status as ImageStatus }),
    ...(flags.after !== undefined && { createdAfter: date(flags.after, 'after') }),
    ...(flags.before !== undefined && { createdBefore: date(flags.before, 'before') }),
    ...(flags.prompt !== undefined && { promptContains: flags.prompt }),
    ...(flags.accepted !== undefined && { accepted: flags.accepted === 'true' }),
    ...(flags.parent !== undefined && { parentId: flags.parent }),
  };
}

function date(value: string, flag: string): Date {
  const parsed = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(parsed.getTime())) {
    throw invalidArgument(
      flag,
      `--${flag} must be an ISO 8601 date or time (2026-12-01, 2026-12-01T08:00:00Z), got "${value}"`,
    );
  }
  return parsed;
}

/** The same options as a ListImagesRequest in its JSON form (for a server). */
export function listRequestJson(options: ListImagesOptions): Record<string, unknown> {
  return {
    pageSize: options.limit,
    ...(options.cursor !== undefined && { pageToken: options.cursor }),
    ...(options.application !== undefined && { application: options.application }),
    ...(options.model !== undefined && { model: options.model }),
    ...(options.team !== undefined && { team: options.team }),
    ...(options.status !== undefined && { status: options.status }),
    ...(options.createdAfter !== undefined && { createdAfter: options.createdAfter.toISOString() }),
    ...(options.createdBefore !== undefined && { createdBefore: options.createdBefore.toISOString() }),
    ...(options.promptContains !== undefined && { promptContains: options.promptContains }),
    ...(options.accepted !== undefined && { accepted: options.accepted }),
    ...(options.parentId !== undefined && { parentId: options.parentId }),
  };
}
