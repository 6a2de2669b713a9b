import type { ReportLine } from '../translate/types.ts';

const MARK: Record<ReportLine['status'], string> = {
  native: 'native  ',
  adjusted: 'adjusted',
  emulated: 'emulated',
  dropped: 'DROPPED ',
};

/** The translation report as aligned text lines for a terminal. */
export function formatReport(report: ReportLine[]): string {
  const width = Math.max(5, ...report.map((l) => l.param.length));
  return report
    .map((line) => {
      const asked = line.requested !== undefined ? ` (asked ${JSON.stringify(line.requested)})` : '';
      return `  ${line.param.padEnd(width)}  ${MARK[line.status]}  ${line.note}${asked}`;
    })
    .join('\n');
}
