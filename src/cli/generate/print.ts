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
      ...(summary.gate && {
        judge: summary.gate.judge,
        rounds: summary.gate.rounds,
        verdict: summary.gate.verdict,
        spentUsd: summary.gate.spentUsd,
      }),
    });
    return;
  }
  if (summary.gate) printGate(summary.gate);
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

/** The gate's rounds, one line each with the failed questions, then the verdict. */
function printGate(gate: NonNullable<GenerateSummary['gate']>): void {
  for (const r of gate.rounds) {
    const score = r.score === null ? '-' : r.score.toFixed(2);
    console.log(
      `round ${r.round}  ${r.imageId}  ${r.status}  score ${score}  (${r.writer}, judge ${r.judge})`,
    );
    console.log(`  prompt: ${r.prompt}`);
    if (r.failed.length > 0) console.log(`  failed: ${r.failed.join(', ')}`);
  }
  const v = gate.verdict;
  console.log(
    `verdict ${v.status} (round ${v.round}, score ${v.score === null ? '-' : v.score.toFixed(2)}, threshold ${v.threshold}, stopped: ${v.stopReason})${v.reasons.length > 0 ? `: ${v.reasons.join('; ')}` : ''}`,
  );
}
