// Child entry: s3rver in its own process, with one bucket, for Pixel's production profile.
import { startLocalS3 } from '../../src/storage/testing/s3rver.ts';
import { benchDataRoot } from '../data-dir.ts';
import { serveChild } from './child.ts';

const BENCH_BUCKET = 'pixel-bench';

await serveChild(async () => {
  const s3 = await startLocalS3(benchDataRoot());
  await s3.createBucket(BENCH_BUCKET);
  return { info: { endpoint: s3.endpoint, bucket: BENCH_BUCKET }, close: s3.close };
});
