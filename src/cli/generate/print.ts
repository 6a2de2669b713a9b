import { printJson } from '../output.ts';
import { formatReport } from '../report-format.ts';
import type { GenerateSummary } from './summary.ts';

export function printSummary(summary: GenerateSummary, json: boolean): void {
  if (json) {
    printJson({
      model: summary.route,
      requested: summary.requested,
      seed: summary.seed,
      storedIn: summary.storedIn,
      images: summary.images,
      report: summary.report,
      notes: summary.notes,
      costEstimateUsd: summary.costEstimateUsd,
      latencyMs: Math.round(summary.latencyMs),
    });
    return;
  }
  for (const image of summary.images) {
    const where = [image.id, image.path ?? image.url].filter((part) => part !== undefined).join('  ');
    console.log(
      `${where}  ${image.width}x${image.height} ${image.mediaType}${image.seed !== undefined ? ` seed ${image.seed}` : ''}`,
    );
  }
  const stored =
    summary.storedIn.kind === 'catalogue'
      ? ', stored in the catalogue'
      : summary.storedIn.kind === 'server'
        ? `, stored by the server at ${summary.storedIn.url}`
        : ', not stored (--no-store)';
  console.log(`model ${summary.route} in ${Math.round(summary.latencyMs)} ms${stored}`);
  for (const note of summary.notes) console.log(`note: ${note}`);
  console.log('report');
  console.log(formatReport(summary.report));
}
