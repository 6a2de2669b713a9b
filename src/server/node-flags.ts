/**
 * V8 flags Pixel's server runs with (`npm start`; the service bench starts its Pixel child with the
 * same). They must be given at process start: V8 sizes its heap once, so `v8.setFlagsFromString` later
 * has no effect.
 *
 * `--max-semi-space-size=16` (MB): the young generation's size, fixed rather than left to V8's growth
 * heuristics. Each request allocates ~1 MB of short-lived objects (JSON, base64 slices, buffers'
 * wrappers); a larger young generation collects them in fewer scavenges and promotes less to the old
 * generation. With 4 MB (this server's setting while its catalogue ran on the main thread, when a big
 * young generation made V8 start back-to-back full mark-compacts) the interleaved A/B in
 * bench/service/ab.ts now measured 0.2–0.6 ms more at concurrency 1 and 6–8 % fewer images/s at 32
 * than with 12–16 MB, and 32 MB was worse again at 32. The service bench reports gc/req and
 * major gc/req, so a regression shows.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16'];
