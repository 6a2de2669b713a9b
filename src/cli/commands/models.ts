import type { Command } from 'commander';
import { defaultCatalog } from '../../models/catalog.ts';
import type { ModelEntry, SizeSpec } from '../../models/schema.ts';
import { describePrice } from '../../translate/price.ts';
import { failWith, printJson } from '../output.ts';

export function registerModels(program: Command): void {
  program
    .command('models')
    .description('list the model catalogue with capabilities and status')
    .option('--provider <name>', 'only this provider')
    .option('--active', 'hide retired models')
    .option('--json', 'machine-readable output')
    .action((flags: { provider?: string; active?: boolean; json?: boolean }) => {
      try {
        const catalog = defaultCatalog();
        const models = catalog
          .list()
          .filter((m) => !flags.provider || m.provider === flags.provider)
          .filter((m) => !flags.active || m.status.state !== 'retired');
        if (flags.json) {
          printJson({ models, aliases: catalog.aliases() });
          return;
        }
        const rows = models.map((m) => [m.id, status(m), sizes(m.sizes), caps(m), price(m)]);
        const head = ['model', 'status', 'sizes', 'capabilities', 'price'];
        const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
        const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
        console.log(line(head));
        for (const row of rows) console.log(line(row));
        console.log('\naliases');
        for (const alias of catalog.aliases())
          console.log(`  ${alias.alias.padEnd(14)} → ${alias.routes.join(', ')}`);
      } catch (error) {
        failWith(error, Boolean(flags.json));
      }
    });
}

function status(m: ModelEntry): string {
  if (m.status.state === 'active') return 'active';
  const instead = 'replacement' in m.status && m.status.replacement ? ` → ${m.status.replacement}` : '';
  return `${m.status.state} ${m.status.date}${instead}`;
}

function sizes(spec: SizeSpec): string {
  if (spec.kind === 'list') return spec.sizes.map((s) => `${s.width}x${s.height}`).join(' ');
  if (spec.kind === 'ratios') return `ratios ${spec.ratios.map((r) => r.ratio).join(' ')}`;
  return `${spec.minSide}–${spec.maxSide} /${spec.multipleOf}${spec.maxPixels ? ` ≤${(spec.maxPixels / 1e6).toFixed(1)}MP` : ''}`;
}

function caps(m: ModelEntry): string {
  const out: string[] = [];
  if (m.cfg) {
    const u = m.cfg.useful;
    out.push(u ? `cfg ${m.cfg.family} ${u.min}–${u.max}` : `cfg ${m.cfg.min}–${m.cfg.max}`);
  }
  if (m.steps)
    out.push(
      m.steps.kind === 'range'
        ? `steps ${m.steps.min}–${m.steps.max}`
        : `tiers ${Object.values(m.steps.tiers).join('/')}`,
    );
  if (m.seed) out.push('seed');
  if (m.negativePrompt) out.push('negative');
  if (m.styles) out.push('styles');
  if (m.transparentBackground) out.push('transparent');
  out.push(`n≤${m.imagesPerCall}/call`, m.formats.join('/'));
  return out.join(', ');
}

function price(m: ModelEntry): string {
  return describePrice(m.price);
}
