import { invalidArgument, PixelError } from '../protocol/errors.ts';

/** Who is acting: the same shape as the service's Caller (resolved from an API key), plus a name for the audit. */
export interface Actor {
  team: string;
  role: 'admin' | 'member' | 'viewer';
  keyId?: string;
  /** Shown in the audit trail; defaults to the key id, else `<role>@<team>`. */
  name?: string;
}

export function actorName(actor: Actor): string {
  return actor.name ?? actor.keyId ?? `${actor.role}@${actor.team}`;
}

/** `production`, `staging`, `team:<id>`, or any lowercase name. */
const LABEL_RE = /^(team:[a-z0-9][a-z0-9._-]{0,63}|[a-z0-9][a-z0-9._-]{0,63})$/;
/** Labels the system keeps itself: `latest` (highest version) and `default` (the file default). */
export const VIRTUAL_LABELS: ReadonlySet<string> = new Set(['latest', 'default']);

export function teamLabel(team: string): string {
  return `team:${team}`;
}

export function validateLabel(label: unknown, field = 'label'): string {
  if (typeof label !== 'string' || !LABEL_RE.test(label)) {
    throw invalidArgument(
      field,
      'label must be production, staging, team:<team> or another lowercase name (letters, digits, . _ -)',
    );
  }
  if (VIRTUAL_LABELS.has(label))
    throw invalidArgument(field, `"${label}" is kept by Pixel and cannot be moved`);
  return label;
}

function denied(message: string): PixelError {
  return new PixelError({ code: 'permission_denied', reason: 'role', message });
}

/**
 * Viewers read. Members may only touch their own team's override: a version they create must carry
 * the `team:<their team>` label, and that is the only label they may move. Admins edit defaults and
 * move every label, `production` included.
 */
export function assertCanRead(actor: Actor): void {
  if (!['viewer', 'member', 'admin'].includes(actor.role)) throw denied(`unknown role ${actor.role}`);
}

export function assertCanMoveLabel(actor: Actor, label: string): void {
  if (actor.role === 'admin') return;
  if (actor.role === 'member' && label === teamLabel(actor.team)) return;
  if (actor.role === 'member') {
    throw denied(
      `members may move only their team's label ${teamLabel(actor.team)}; "${label}" needs the admin role`,
    );
  }
  throw denied('viewers may read applications but not change them');
}

/** A new version; `label` is where it will be published (members must publish to their team label). */
export function assertCanCreateVersion(actor: Actor, label: string | undefined): void {
  if (actor.role === 'admin') return;
  if (actor.role === 'viewer') throw denied('viewers may read applications but not change them');
  if (label === undefined) {
    throw denied(`members create versions as their team's override: give label ${teamLabel(actor.team)}`);
  }
  assertCanMoveLabel(actor, label);
}
