import type { TestProject } from 'vitest/node';
import { findPostgresBin, type PostgresServer, startPostgres } from './postgres-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of a throwaway PostgreSQL server; absent when no PostgreSQL binaries are installed. */
    postgresUrl?: string;
    /** Why postgresUrl is absent. */
    postgresSkipReason?: string;
  }
}

/**
 * vitest globalSetup: one PostgreSQL server for the whole run (suites create their own databases in it
 * with createTestDatabase). Without Debian's binaries: fail under CI, otherwise let suites skip.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const bin = findPostgresBin();
  if (!bin) {
    const reason =
      'PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)';
    if (process.env.CI) throw new Error(`CI requires a PostgreSQL server for the catalogue tests: ${reason}`);
    project.provide('postgresSkipReason', reason);
    return async () => {};
  }
  let server: PostgresServer | undefined;
  try {
    server = await startPostgres(bin);
  } catch (error) {
    // Outside CI a broken local PostgreSQL must not take every other suite down with it.
    if (process.env.CI) throw error;
    project.provide(
      'postgresSkipReason',
      `PostgreSQL did not start: ${(error as Error).message.split('\n')[0]}`,
    );
    return async () => {};
  }
  project.provide('postgresUrl', server.url);
  return async () => {
    await server?.stop();
    server = undefined;
  };
}
