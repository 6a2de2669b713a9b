/**
 * V8 flags Pixel's server runs with (`npm start`; the service bench starts its Pixel child with the
 * same). They must be given at process start: V8 sizes its heap once, so `v8.setFlagsFromString` later
 * has no effect.
 *
 * `--max-semi-space-size=4` (MB; V8's default lets the young generation grow to 32 MB): with a large
 * young generation, V8 starts a full incremental mark-compact whenever the old generation's headroom
 * (limit − size) is below the young generation's capacity, which for a ~40 MB server heap is right
 * after every mark-compact, so a server handling ~256 KB images ran back-to-back full GCs: one every
 * ~8 requests and about half its CPU. With 4 MB the same load does one every ~150 requests; the extra
 * scavenges of a smaller young generation are cheap (bench/service.bench.ts: cpu ms/req, gc/req).
 * Re-checked with 16 MB (bench/service/ab.ts, two identical servers side by side): one ran normally and
 * slightly faster, the other fell into a mark-compact every ~60 ms, 5–6 ms of GC CPU per request.
 *
 * `--no-allocation-site-pretenuring`: under load (32 requests in flight) most of a request's objects
 * outlive a scavenge, so V8 learns to allocate them straight into the old generation, and keeps doing
 * so once the load drops. A server back at one request at a time after a burst then ran a full
 * mark-compact every ~8 requests (about 5 ms of GC CPU per request, +1 ms p50); with pretenuring off,
 * 0.4 ms, and the same throughput under load (bench/service/ab.ts with WARMUP_C=32).
 *
 * `--heap-growing-percent=200`: after a full GC the old generation may grow to 3× what survived before
 * the next one starts. At 32 requests in flight the server's ~35 MB heap otherwise came back to a full
 * GC every ~40 requests, and marking it cost ~1.7 ms of CPU per request; with 200, ~1.05 ms and ~8% more
 * images per second (bench/service/ab.ts, two runs). The price is up to ~100 MB of heap between GCs.
 */
export const SERVER_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=4',
  '--no-allocation-site-pretenuring',
  '--heap-growing-percent=200',
];
