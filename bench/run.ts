import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSection } from './types.ts';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

for (const file of files) {
  const mod = (await import(join(here, file))) as { bench: () => Promise<BenchSection> };
  const started = performance.now();
  const section = await mod.bench();
  printSection(section, performance.now() - started);
}

function printSection(section: BenchSection, elapsedMs: number): void {
  console.log(`\n## ${section.title}  (${(elapsedMs / 1000).toFixed(1)} s)`);
  const columns = [...new Set(section.rows.flatMap((r) => Object.keys(r)))];
  const cells = section.rows.map((r) => columns.map((c) => String(r[c] ?? '')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(columns));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of cells) console.log(line(row));
  for (const note of section.notes ?? []) console.log(`- ${note}`);
}
