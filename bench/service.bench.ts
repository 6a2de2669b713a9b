import type { Agent } from 'node:http';
import { loadavg } from 'node:os';
import { SERVER_NODE_FLAGS } from '../src/server/node-flags.ts';
import { type ChildUsage, usageDelta } from './service/child.ts';
import { keepAliveAgent, type LoadResult, merge, runLoad, type Target } from './service/load.ts';
import { type Probe, probe } from './service/probe.ts';
import { type PixelInfo, setUp } from './service/setup.ts';
import { countStored } from './service/stored.ts';
import { type BenchSection, percentile, round } from './types.ts';

/**
 * Issue 4's service benchmark: Pixel's OpenAI-compatible endpoint (embedded profile, and PostgreSQL +
 * S3) against calling a local fake OpenAI provider directly, and against the Portkey OSS gateway in
 * front of the same fake, all in one run. Cells are interleaved in rounds (every target takes its turn
 * in each round, in a rotating order) so machine noise lands on all of them alike.
 */
/**
 * Each target gets `warmup` requests at the cell's concurrency before its measured rounds, so that what
 * is measured is the steady state: V8 is still compiling the hot path (on its own threads, next to the
 * request) for the first few hundred requests of a fresh process. Every target is warmed alike.
 */
const CELLS = [
  // 320 measured requests per target, in 8 short rounds: at concurrency 1 a target's p50 follows the
  // machine's pace from second to second, and short rounds spread that over every target alike.
  { concurrency: 1, rounds: 8, perRound: 40, warmup: 300 },
  // 800 per target: Pixel and Portkey serve ~100–250 images/s on this machine, so 2,000 each would take
  // the bench past 3 minutes.
  { concurrency: 32, rounds: 4, perRound: 200, warmup: 320 },
] as const;

const FLOOR_ADDED_P50_MS = 5;
const FLOOR_STORED_PER_S = 200;

interface Live {
  target: Target;
  pixel?: PixelInfo;
  probe: Probe;
  /** Successful requests in total, warm-ups and probe included (to check against what was stored). */
  served: number;
  results: Map<number, LoadResult>;
  /** The server process's own CPU and GC counters, when it is one of ours (Pixel). */
  usage?: () => Promise<ChildUsage>;
  /** Per cell: the server's CPU and GC over the measured rounds (not the warm-up). */
  spent: Map<number, ChildUsage>;
}

const NO_USAGE: ChildUsage = { cpuMs: 0, gcCount: 0, gcMs: 0, majorGcCount: 0 };

const sum = (a: ChildUsage, b: ChildUsage): ChildUsage => ({
  cpuMs: a.cpuMs + b.cpuMs,
  gcCount: a.gcCount + b.gcCount,
  gcMs: a.gcMs + b.gcMs,
  majorGcCount: a.majorGcCount + b.majorGcCount,
});

async function measure(agent: Agent, live: Live[]): Promise<void> {
  for (const cell of CELLS) {
    for (const l of live) {
      const warm = await runLoad(agent, l.target, cell.warmup, cell.concurrency);
      l.served += warm.ok;
    }
    const rounds = new Map<Live, LoadResult[]>(live.map((l) => [l, []]));
    for (let r = 0; r < cell.rounds; r++) {
      const order = live.map((_, i) => live[(i + r) % live.length]!);
      for (const l of order) {
        const before = await l.usage?.();
        const result = await runLoad(agent, l.target, cell.perRound, cell.concurrency);
        const after = await l.usage?.();
        if (before && after) {
          const spent = l.spent.get(cell.concurrency) ?? NO_USAGE;
          l.spent.set(cell.concurrency, sum(spent, usageDelta(after, before)));
        }
        l.served += result.ok;
        rounds.get(l)!.push(result);
      }
    }
    for (const l of live) l.results.set(cell.concurrency, merge(rounds.get(l)!));
  }
}

const ms = (v: number) => round(v, 2);

export async function bench(): Promise<BenchSection> {
  const load = loadavg()[0]!;
  const setup = await setUp();
  const agent = keepAliveAgent(64);
  const rows: BenchSection['rows'] = [];
  const notes: string[] = [];
  try {
    const live: Live[] = [];
    for (const slot of setup.slots) {
      if ('unavailable' in slot) {
        rows.push({ target: slot.name, c: '-', note: `not measured: ${oneLine(slot.unavailable)}` });
        continue;
      }
      try {
        const p = await probe(agent, slot.target);
        live.push({ ...slot, probe: p, served: 1, results: new Map(), spent: new Map() });
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        rows.push({ target: slot.target.name, c: '-', note: `not measured: ${oneLine(why)}` });
      }
    }
    const direct = live.find((l) => l.target.name.startsWith('direct'));
    if (!direct) throw new Error(`the fake provider does not answer: ${JSON.stringify(rows)}`);
    await measure(agent, live);

    for (const cell of CELLS) {
      const base = direct.results.get(cell.concurrency)!;
      const b50 = percentile(base.latencies, 50);
      const b99 = percentile(base.latencies, 99);
      for (const l of live) {
        const r = l.results.get(cell.concurrency)!;
        const p50 = percentile(r.latencies, 50);
        const p99 = percentile(r.latencies, 99);
        const isBase = l === direct;
        rows.push({
          target: l.target.name,
          c: cell.concurrency,
          requests: r.ok + r.failed,
          failed: r.failed,
          'p50 ms': ms(p50),
          'p99 ms': ms(p99),
          'added p50 ms': isBase ? '-' : ms(p50 - b50),
          'added p99 ms': isBase ? '-' : ms(p99 - b99),
          'images/s': round(r.ok / r.seconds, 1),
          stored: l.pixel ? 'yes' : 'no',
          ...perRequest(l.spent.get(cell.concurrency), r.ok + r.failed),
          ...(r.firstFailure !== undefined && { note: oneLine(r.firstFailure) }),
        });
      }
    }

    notes.push(...floorNotes(live, direct));
    notes.push(...(await storedNotes(live)));
    const sample = live.find((l) => l.pixel && l.probe.via === 'b64_json');
    notes.push(
      `fake provider image: ${round(setup.pngBytes / 1024, 0)} KB PNG, 1024x1024 (${round((setup.pngBytes * 4) / 3 / 1024, 0)} KB as b64_json)` +
        (sample
          ? `; Pixel returns it with lineage embedded: ${round(sample.probe.imageBytes / 1024, 1)} KB, lineage chunk ${sample.probe.lineage ? 'present' : 'MISSING'}`
          : ''),
      `added = target p50/p99 − direct p50/p99 of the same cell; per cell, every target first takes ${CELLS.map((c) => `${c.warmup} warm-up requests at c=${c.concurrency}`).join(' / ')}, then ${CELLS.map((c) => `${c.rounds} interleaved rounds of ${c.perRound}`).join(' / ')}; keep-alive client (node:http Agent)`,
      ...setup.layout,
      "cpu ms/req, gc/req, gc ms/req: the Pixel server process's own user+system CPU (all its threads, via process.cpuUsage()) and its garbage collections (perf_hooks 'gc' entries; major = full mark-compact) over the measured rounds, divided by the requests; asked over the child's IPC before and after each round",
      `Pixel servers run with the V8 flags \`npm start\` gives node (src/server/node-flags.ts): ${SERVER_NODE_FLAGS.join(' ')}`,
      'Pixel: both profiles require an API key (Bearer pxl_…, verified against the catalogue, then cached for PIXEL_KEY_CACHE_MS (5 s)) and log one JSON line per request (PIXEL_LOG_LEVEL=info, to a discarded stdout); PostgreSQL runs with fsync on',
      'to see where a Pixel server spends its time: PIXEL_BENCH_PROFILE=<dir> npm run bench service, then node bench/service/profile-summary.ts <dir>/<file>.cpuprofile',
      `1-minute load average when the bench started: ${round(load, 2)} on ${navigatorCores()} cores (other work on the machine makes every figure noisier, the side-by-side ratios less so)`,
    );
  } finally {
    agent.destroy();
    await setup.stop();
  }
  return {
    title: 'Service: Pixel OpenAI-compatible endpoint vs direct provider calls vs Portkey OSS, 256 KB PNGs',
    rows,
    notes,
  };
}

/** The server's CPU ms, GCs and GC pause per request of a cell ('-' for targets that are not ours). */
function perRequest(spent: ChildUsage | undefined, requests: number): Record<string, string | number> {
  if (!spent || requests === 0)
    return { 'cpu ms/req': '-', 'gc/req': '-', 'major gc/req': '-', 'gc ms/req': '-' };
  return {
    'cpu ms/req': round(spent.cpuMs / requests, 2),
    'gc/req': round(spent.gcCount / requests, 2),
    'major gc/req': round(spent.majorGcCount / requests, 3),
    'gc ms/req': round(spent.gcMs / requests, 2),
  };
}

function navigatorCores(): number {
  return globalThis.navigator?.hardwareConcurrency ?? 0;
}

function floorNotes(live: Live[], direct: Live): string[] {
  const notes: string[] = [];
  const added = (l: Live, c: number) =>
    percentile(l.results.get(c)!.latencies, 50) - percentile(direct.results.get(c)!.latencies, 50);
  const rate = (l: Live, c: number) => {
    const r = l.results.get(c)!;
    return r.ok / r.seconds;
  };
  const embedded = live.find(
    (l) => l.pixel?.profile === 'embedded' && !l.pixel.baseline && l.probe.via === 'b64_json',
  );
  const baseline = live.find((l) => l.pixel?.baseline !== undefined);
  const portkey = live.find((l) => l.target.name.startsWith('Portkey'));
  if (embedded) {
    const a = added(embedded, 1);
    const s = rate(embedded, 32);
    notes.push(
      `floor, added p50 at c=1 (embedded, b64_json) ≤ ${FLOOR_ADDED_P50_MS} ms: ${ms(a)} ms, ${a <= FLOOR_ADDED_P50_MS ? 'met' : 'MISSED'}`,
      `floor, stored images/s at c=32 (embedded, b64_json) ≥ ${FLOOR_STORED_PER_S}: ${round(s, 1)}, ${s >= FLOOR_STORED_PER_S ? 'met' : 'MISSED'}`,
    );
    if (baseline) {
      const b = added(baseline, 1);
      const bs = rate(baseline, 32);
      notes.push(
        `this code vs baseline ${baseline.pixel!.baseline} (embedded, b64_json, same run): added p50 at c=1 ${ms(a)} vs ${ms(b)} ms; stored images/s at c=32 ${round(s, 1)} vs ${round(bs, 1)} (${round(s / bs, 2)}x)`,
      );
    }
    if (portkey) {
      notes.push(
        `Pixel embedded vs Portkey (which stores nothing): added p50 at c=1 ${ms(a)} vs ${ms(added(portkey, 1))} ms; images/s at c=32 ${round(s, 1)} vs ${round(rate(portkey, 32), 1)} (${round(s / rate(portkey, 32), 2)}x)`,
      );
    }
  }
  return notes;
}

/** Checks that what Pixel said it stored is there: catalogue rows (PostgreSQL) or blob files (local). */
async function storedNotes(live: Live[]): Promise<string[]> {
  const notes: string[] = [];
  const byProfile = new Map<string, Live[]>();
  for (const l of live)
    if (l.pixel) byProfile.set(l.pixel.profile, [...(byProfile.get(l.pixel.profile) ?? []), l]);
  for (const [profile, targets] of byProfile) {
    const served = targets.reduce((s, l) => s + l.served, 0);
    const found = await countStored(targets[0]!.pixel!);
    notes.push(
      `${profile}: ${served} images answered with 200, ${found.count} ${found.what} found afterwards`,
    );
  }
  return notes;
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').slice(0, 200);
