import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What a Pixel profile actually kept: catalogue rows when it runs on a PostgreSQL server (queried
 * directly), else blob files in the local store (the embedded PGlite belongs to the server process).
 */
export async function countStored(pixel: {
  dataDir: string;
  databaseUrl?: string;
}): Promise<{ count: number; what: string }> {
  if (pixel.databaseUrl) {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: pixel.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM images');
      return { count: Number(rows[0]?.n ?? 0), what: 'catalogue rows' };
    } catch (error) {
      return { count: Number.NaN, what: `catalogue rows (query failed: ${(error as Error).message})` };
    } finally {
      await client.end();
    }
  }
  try {
    // Only the key space (blobs/images/…): the store's staging area holds empty spare files.
    const entries = await readdir(join(pixel.dataDir, 'blobs', 'images'), {
      recursive: true,
      withFileTypes: true,
    });
    return { count: entries.filter((e) => e.isFile()).length, what: 'blob files' };
  } catch (error) {
    return { count: Number.NaN, what: `blob files (${(error as Error).message})` };
  }
}
