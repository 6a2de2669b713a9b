// Summarises a V8 .cpuprofile (from `PIXEL_BENCH_PROFILE=<dir>`): self time by function and by file,
// so a missed floor can be explained by where the server's time goes.
// Usage: node bench/service/profile-summary.ts <file.cpuprofile> [top]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

export function summarise(profile: Profile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url.replace(/^file:\/\/.*\/node_modules\//, '').replace(/^file:\/\/\/work\/main\//, '');
    const f = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    fn.set(f, (fn.get(f) ?? 0) + us);
    const pkg =
      where.startsWith('src/') || where.startsWith('bench/')
        ? where
        : where
            .split('/')
            .slice(0, where.startsWith('@') ? 2 : 1)
            .join('/');
    file.set(pkg || functionName, (file.get(pkg || functionName) ?? 0) + us);
  }
  const lines = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([k, us]) =>
          `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`,
      );
  return [
    `total ${(total / 1000).toFixed(0)} ms`,
    '-- by package/file',
    ...lines(file),
    '-- by function',
    ...lines(fn),
  ].join('\n');
}

if (import.meta.main) {
  const [path, top] = process.argv.slice(2);
  if (!path) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
  console.log(summarise(JSON.parse(readFileSync(path, 'utf8')) as Profile, Number(top ?? 25)));
}
