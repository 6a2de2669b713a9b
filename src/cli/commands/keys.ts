import type { Command } from 'commander';
import { ApiKeyRepo, ROLES, type Role } from '../../catalog/api-keys.ts';
import { openPlatformDatabase } from '../../platform/open.ts';
import { invalidArgument, PixelError } from '../../protocol/errors.ts';
import { serverConfigFromEnv } from '../../server/config.ts';
import { failWith, printJson } from '../output.ts';

/**
 * `pixel keys create | list | revoke`: straight to the catalogue database (PIXEL_DATA_DIR's PGlite or
 * DATABASE_URL). PGlite allows one process at a time: stop an embedded server first.
 */
export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description('manage API keys (stored as hashes; each bound to a team and a role)');

  keys
    .command('create')
    .description('create a key; it is printed once and never stored')
    .requiredOption('--team <team>', 'team the key belongs to')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--name <name>', 'what the key is for')
    .option('--json', 'machine-readable output')
    .action(async (flags: { team: string; role: string; name?: string; json?: boolean }) => {
      try {
        if (!ROLES.includes(flags.role as Role))
          throw invalidArgument('role', `must be one of ${ROLES.join(', ')}`);
        const created = await withRepo((repo) =>
          repo.createKey({ team: flags.team, role: flags.role as Role, name: flags.name }),
        );
        if (flags.json)
          printJson({
            id: created.id,
            key: created.key,
            prefix: created.prefix,
            team: flags.team,
            role: flags.role,
          });
        else {
          console.log(created.key);
          process.stderr.write(
            `pixel: key ${created.id} for team ${flags.team} (${flags.role}); this is the only time it is shown\n`,
          );
        }
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });

  keys
    .command('list')
    .description('list keys (never the keys themselves)')
    .option('--team <team>', 'only this team')
    .option('--json', 'machine-readable output')
    .action(async (flags: { team?: string; json?: boolean }) => {
      try {
        const list = await withRepo((repo) => repo.list({ team: flags.team }));
        if (flags.json) {
          printJson({ keys: list });
          return;
        }
        for (const k of list) {
          const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
          console.log(`${k.id}  ${k.prefix.padEnd(13)}  ${k.team}  ${k.role.padEnd(6)}  ${state}  ${k.name}`);
        }
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });

  keys
    .command('revoke <id>')
    .description('revoke a key by id (key_…)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, flags: { json?: boolean }) => {
      try {
        const revoked = await withRepo((repo) => repo.revoke(id));
        if (!revoked)
          throw new PixelError({
            code: 'not_found',
            field: 'id',
            message: `no active API key has the id ${id}`,
          });
        if (flags.json) printJson({ id, revoked: true });
        else console.log(`revoked ${id}`);
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });
}

async function withRepo<T>(fn: (repo: ApiKeyRepo) => Promise<T>): Promise<T> {
  const db = await openPlatformDatabase(serverConfigFromEnv(process.env));
  try {
    return await fn(new ApiKeyRepo(db));
  } finally {
    await db.close();
  }
}
