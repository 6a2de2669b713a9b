import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createTestDatabase,
  findPostgresBin,
  type PostgresServer,
  startPostgres,
} from '../../src/catalog/testing/postgres-server.ts';
import { SERVER_NODE_FLAGS } from '../../src/server/node-flags.ts';
import { S3RVER_CREDENTIALS } from '../../src/storage/testing/s3rver.ts';
import { benchDataDir } from '../data-dir.ts';
import { type ChildService, type ChildUsage, forkService } from './child.ts';
import { FAKE_PROVIDER_KEY } from './fake-openai.ts';
import type { Target } from './load.ts';
import { startPortkey } from './portkey.ts';

export const PIXEL_MODEL = 'openai/gpt-image-1.5';
const PROMPT = 'butcher cut: ribeye steak on a wooden board, studio lighting';

/** A target of the bench, or the reason it could not be set up. */
export type Slot =
  | { target: Target; pixel?: PixelInfo; usage?: () => Promise<ChildUsage> }
  | { name: string; unavailable: string };

export interface PixelInfo {
  profile: 'embedded' | 'postgres+s3';
  dataDir: string;
  databaseUrl?: string;
  /** Set when this server is the earlier commit named by PIXEL_BENCH_BASELINE. */
  baseline?: string;
}

export interface Bench {
  pngBytes: number;
  slots: Slot[];
  /** Where the child processes run, for the notes. */
  layout: string[];
  stop(): Promise<void>;
}

/** The OpenAI Images request every target gets (one 1024² image). */
export const requestBody = (model: string, responseFormat: 'b64_json' | 'url') =>
  Buffer.from(
    JSON.stringify({ model, prompt: PROMPT, n: 1, size: '1024x1024', response_format: responseFormat }),
  );

/** Settings common to both Pixel profiles; the child's own environment is otherwise inherited. */
export function pixelEnv(fakeBaseUrl: string, dataDir: string, adminKey: string): Record<string, string> {
  return {
    PIXEL_PORT: '0',
    PIXEL_HOST: '127.0.0.1',
    PIXEL_DATA_DIR: dataDir,
    PIXEL_PUBLIC_URL: '',
    PIXEL_ADMIN_KEY: adminKey,
    PIXEL_REQUIRE_KEYS: 'true',
    PIXEL_SWEEP_INTERVAL_MS: '0',
    // Production logging (one JSON line a request) unless told otherwise; the child's stdout is discarded.
    PIXEL_LOG_LEVEL: process.env.PIXEL_BENCH_LOG_LEVEL ?? 'info',
    OPENAI_API_KEY: FAKE_PROVIDER_KEY,
    OPENAI_BASE_URL: fakeBaseUrl,
    DATABASE_URL: '',
    PIXEL_STORE: 'local',
  };
}

/** `PIXEL_BENCH_PROFILE=<dir>` writes a V8 CPU profile of each Pixel server there when it exits. */
function profileArgs(): string[] {
  const dir = process.env.PIXEL_BENCH_PROFILE;
  const extra = process.env.PIXEL_BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  return [...extra, ...(dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [])];
}

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, 300);

/**
 * Starts every process of the bench: the fake provider, s3rver and PostgreSQL, Pixel in both profiles
 * and the Portkey gateway, each in its own process so none shares the load driver's event loop. A part
 * that cannot start becomes an "unavailable" slot with its reason instead of failing the bench.
 */
export async function setUp(): Promise<Bench> {
  const stops: Array<() => Promise<void>> = [];
  const dirs: string[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  };
  try {
    const adminKey = `pxl_${randomBytes(32).toString('base64url')}`;
    const pixelHeaders = { authorization: `Bearer ${adminKey}` };
    const fake = await forkService<{ baseUrl: string; pngBytes: number }>(
      new URL('./fake-main.ts', import.meta.url),
    );
    stops.push(() => fake.stop());
    const slots: Slot[] = [];
    const direct = requestBody('gpt-image-1.5', 'b64_json');
    slots.push({
      target: {
        name: 'direct to fake',
        url: `${fake.info.baseUrl}/images/generations`,
        headers: { authorization: `Bearer ${FAKE_PROVIDER_KEY}` },
        body: direct,
      },
    });

    const startPixel = async (
      profile: PixelInfo['profile'],
      extra: Record<string, string>,
      variant: { entry: URL | string; label: string; formats: readonly ('b64_json' | 'url')[] } = {
        entry: new URL('./pixel-main.ts', import.meta.url),
        label: '',
        formats: ['b64_json', 'url'],
      },
    ) => {
      const dataDir = benchDataDir('pixel-service-');
      dirs.push(dataDir);
      const child: ChildService<{ url: string }> = await forkService(variant.entry, {
        env: { ...pixelEnv(fake.info.baseUrl, dataDir, adminKey), ...extra },
        // The V8 flags `npm start` runs the server with (see src/server/node-flags.ts).
        execArgv: [...SERVER_NODE_FLAGS, ...profileArgs()],
      });
      stops.push(() => child.stop());
      const pixel: PixelInfo = {
        profile,
        dataDir,
        ...(extra.DATABASE_URL && { databaseUrl: extra.DATABASE_URL }),
        ...(variant.label && { baseline: variant.label }),
      };
      for (const format of variant.formats) {
        slots.push({
          pixel,
          usage: child.usage,
          target: {
            name: `Pixel ${profile}, ${format}${variant.label ? ` (baseline ${variant.label})` : ''}`,
            url: `${child.info.url}/v1/images/generations`,
            headers: pixelHeaders,
            body: requestBody(PIXEL_MODEL, format),
          },
        });
      }
    };

    try {
      await startPixel('embedded', {});
    } catch (error) {
      slots.push({ name: 'Pixel embedded', unavailable: reason(error) });
    }

    // PIXEL_BENCH_BASELINE=<checkout> runs an earlier commit's server beside this one (a `git worktree` of
    // it, with node_modules), so a change is measured against what it replaces in the same run.
    const baseline = process.env.PIXEL_BENCH_BASELINE;
    if (baseline) {
      const label = baselineLabel(baseline);
      try {
        await startPixel(
          'embedded',
          {},
          {
            entry: join(baseline, 'bench/service/pixel-main.ts'),
            label,
            formats: ['b64_json'],
          },
        );
      } catch (error) {
        slots.push({ name: `Pixel embedded (baseline ${label})`, unavailable: reason(error) });
      }
    }

    try {
      const bin = findPostgresBin();
      if (!bin) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
      // Durable settings (fsync on), as a production server would run.
      const pg: PostgresServer = await startPostgres(bin, { durable: true });
      stops.push(() => pg.stop());
      const databaseUrl = await createTestDatabase(pg.url, 'pixel_bench');
      const s3 = await forkService<{ endpoint: string; bucket: string }>(
        new URL('./s3-main.ts', import.meta.url),
      );
      stops.push(() => s3.stop());
      await startPixel('postgres+s3', {
        DATABASE_URL: databaseUrl,
        PIXEL_STORE: 's3',
        PIXEL_S3_BUCKET: s3.info.bucket,
        PIXEL_S3_ENDPOINT: s3.info.endpoint,
        PIXEL_S3_FORCE_PATH_STYLE: 'true',
        PIXEL_S3_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      });
    } catch (error) {
      slots.push({ name: 'Pixel postgres+s3', unavailable: reason(error) });
    }

    try {
      const portkey = await startPortkey(fake.info.baseUrl);
      stops.push(() => portkey.stop());
      slots.push({
        target: {
          name: 'Portkey OSS 1.15.2',
          url: `${portkey.url}/v1/images/generations`,
          headers: portkey.headers,
          body: direct,
        },
      });
    } catch (error) {
      slots.push({ name: 'Portkey OSS 1.15.2', unavailable: reason(error) });
    }

    return {
      pngBytes: fake.info.pngBytes,
      slots,
      layout: [
        'fake provider, each Pixel server, s3rver, PostgreSQL and Portkey each run in their own process; the load driver (this process) only sends requests',
      ],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The baseline checkout's commit (short hash), or its folder when git cannot tell. */
function baselineLabel(dir: string): string {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return dir;
  }
}
