import { resolve } from 'node:path';
import { PixelError } from '../protocol/errors.ts';

/** Where the platform keeps its data: what every process (server, CLI, worker) reads from the environment. */
export interface PlatformConfig {
  /** Embedded catalogue (`<dataDir>/pglite`) and local blobs (`<dataDir>/blobs`). */
  dataDir: string;
  /** PostgreSQL server; absent = embedded PGlite under `<dataDir>/pglite`. */
  databaseUrl?: string;
  /** Base URL clients reach the server at (local blob URLs); default `http://<host>:<port>`. */
  publicUrl?: string;
}

type Env = Record<string, string | undefined>;

export const isSet = (value: string | undefined): value is string =>
  value !== undefined && value.trim() !== '';

export function configError(variable: string, message: string): PixelError {
  return new PixelError({
    code: 'invalid_argument',
    reason: 'config',
    field: variable,
    message: `${variable} ${message}`,
  });
}

/** Reads PIXEL_DATA_DIR, DATABASE_URL and PIXEL_PUBLIC_URL; a bad value throws a PixelError naming the variable. */
export function platformConfigFromEnv(env: Env = process.env): PlatformConfig {
  let publicUrl: string | undefined;
  if (isSet(env.PIXEL_PUBLIC_URL)) {
    try {
      const url = new URL(env.PIXEL_PUBLIC_URL);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
    } catch {
      throw configError('PIXEL_PUBLIC_URL', 'must be an http(s) URL');
    }
    publicUrl = env.PIXEL_PUBLIC_URL.trim().replace(/\/+$/, '');
  }
  return {
    dataDir: resolve(isSet(env.PIXEL_DATA_DIR) ? env.PIXEL_DATA_DIR : './data'),
    ...(isSet(env.DATABASE_URL) && { databaseUrl: env.DATABASE_URL.trim() }),
    ...(publicUrl !== undefined && { publicUrl }),
  };
}
