// Developer tool, not part of `npm run bench`: an A/B of Pixel server variants against one fake
// provider, in interleaved rounds (the order alternates), so that machine noise lands on every variant
// alike. A variant is a name and environment settings; MAIN=<path> runs another checkout's
// bench/service/pixel-main.ts (a `git worktree` of the commit to compare with).
//
//   VARIANTS='before:MAIN=/work/base/bench/service/pixel-main.ts|after:' node bench/service/ab.ts 8 1,32
//
// FLAGS='--a --b' adds V8/Node flags to a variant. Arguments: rounds (default 6), concurrencies (default 1).
// WARMUP=<n> warm-up requests per server before each concurrency (default 300, as the bench); WARMUP_C=<c>
// sends them at another concurrency (to see how a server behaves at c=1 after a burst, say).
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { SERVER_NODE_FLAGS } from '../../src/server/node-flags.ts';
import { benchDataDir } from '../data-dir.ts';
import { percentile } from '../types.ts';
import { forkService, usageDelta } from './child.ts';
import { FAKE_PROVIDER_KEY } from './fake-openai.ts';
import { keepAliveAgent, type LoadResult, merge, runLoad, type Target } from './load.ts';
import { pixelEnv, requestBody } from './setup.ts';

const rounds = Number(process.argv[2] ?? 6);

/** CPU ms per thread name (user + system) of a process, from /proc (Linux). */
function threadCpu(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = (Number(fields[11]) + Number(fields[12])) * 10;
      byName.set(name, (byName.get(name) ?? 0) + ms);
    }
  } catch {
    // not Linux, or the process is gone
  }
  return byName;
}
const concurrencies = (process.argv[3] ?? '1').split(',').map(Number);
const adminKey = `pxl_${randomBytes(32).toString('base64url')}`;
const variants = (process.env.VARIANTS ?? 'A:|B:').split('|').map((spec) => {
  const [name, settings = ''] = spec.split(':');
  const env = Object.fromEntries(
    settings
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  return { name: name!, env };
});
const body = requestBody('gpt-image-1.5', 'b64_json');

const fake = await forkService<{ baseUrl: string }>(new URL('./fake-main.ts', import.meta.url));
const direct: Target = {
  name: 'direct',
  url: `${fake.info.baseUrl}/images/generations`,
  headers: { authorization: `Bearer ${FAKE_PROVIDER_KEY}` },
  body,
};
const servers = [];
const dataDirs: string[] = [];
for (const v of variants) {
  const dataDir = benchDataDir('ab-');
  dataDirs.push(dataDir);
  const child = await forkService<{ url: string }>(
    v.env.MAIN ?? new URL('./pixel-main.ts', import.meta.url),
    {
      env: {
        ...pixelEnv(fake.info.baseUrl, dataDir, adminKey),
        ...v.env,
      },
      execArgv: [
        ...SERVER_NODE_FLAGS,
        ...(v.env.FLAGS?.split(' ').filter(Boolean) ?? []),
        ...(process.env.PIXEL_BENCH_PROFILE
          ? [
              '--cpu-prof',
              `--cpu-prof-dir=${process.env.PIXEL_BENCH_PROFILE}`,
              `--cpu-prof-name=${v.name}.cpuprofile`,
            ]
          : []),
      ],
    },
  );
  const target: Target = {
    name: v.name,
    url: `${child.info.url}/v1/images/generations`,
    headers: { authorization: `Bearer ${adminKey}` },
    body,
  };
  servers.push({ ...v, child, target });
}
const agent = keepAliveAgent(64);
try {
  for (const c of concurrencies) {
    const perRound = c === 1 ? 60 : 160;
    await runLoad(agent, direct, 20, c);
    const warmup = Number(process.env.WARMUP ?? 300);
    for (const s of servers) await runLoad(agent, s.target, warmup, Number(process.env.WARMUP_C ?? c));
    const results = new Map<string, LoadResult[]>([
      ['direct', []],
      ...servers.map((s) => [s.name, []] as [string, LoadResult[]]),
    ]);
    const cpu = new Map<string, number>();
    const threads = new Map<string, Map<string, number>>();
    for (let r = 0; r < rounds; r++) {
      results.get('direct')!.push(await runLoad(agent, direct, perRound, c));
      for (const s of r % 2 === 0 ? servers : [...servers].reverse()) {
        const before = await s.child.usage();
        const threadsBefore = threadCpu(s.child.pid);
        results.get(s.name)!.push(await runLoad(agent, s.target, perRound, c));
        cpu.set(s.name, (cpu.get(s.name) ?? 0) + usageDelta(await s.child.usage(), before).cpuMs);
        const spent = threads.get(s.name) ?? new Map<string, number>();
        for (const [name, ms] of threadCpu(s.child.pid)) {
          spent.set(name, (spent.get(name) ?? 0) + ms - (threadsBefore.get(name) ?? 0));
        }
        threads.set(s.name, spent);
      }
    }
    const base = percentile(merge(results.get('direct')!).latencies, 50);
    const cells = servers.map((s) => {
      const m = merge(results.get(s.name)!);
      const added = (percentile(m.latencies, 50) - base).toFixed(2);
      return `${s.name}: +${added} ms p50, ${(m.ok / m.seconds).toFixed(0)}/s, cpu ${(cpu.get(s.name)! / m.ok).toFixed(2)} ms/req`;
    });
    console.log(`c=${c}  direct p50 ${base.toFixed(2)} ms | ${cells.join(' | ')}`);
    for (const s of servers) {
      const ok = merge(results.get(s.name)!).ok;
      const perThread = [...(threads.get(s.name) ?? [])]
        .filter(([, ms]) => ms > 0)
        .map(([name, ms]) => `${name} ${(ms / ok).toFixed(2)}`);
      console.log(`      ${s.name} cpu ms/req by thread: ${perThread.join(', ')}`);
    }
  }
} finally {
  agent.destroy();
  for (const s of servers) await s.child.stop();
  await fake.stop();
  if (!process.env.PIXEL_BENCH_KEEP_DATA)
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
}
