import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPS_DIR } from './load.ts';
import type { Actor } from './permissions.ts';

/** A temporary copy of the shipped applications, so a test can change files without touching the repo. */
export function copyOfShippedApps(only?: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'pixel-apps-'));
  for (const name of readdirSync(APPS_DIR)) {
    if (!name.endsWith('.yaml')) continue;
    if (only && !only.includes(name.replace(/\.yaml$/, ''))) continue;
    copyFileSync(join(APPS_DIR, name), join(dir, name));
  }
  return dir;
}

export const ADMIN: Actor = { team: 'platform', role: 'admin', name: 'alice' };
export const MEMBER: Actor = { team: 'growth', role: 'member', name: 'bob' };
export const OTHER_MEMBER: Actor = { team: 'fresh', role: 'member', name: 'carol' };
export const VIEWER: Actor = { team: 'growth', role: 'viewer', name: 'dave' };
