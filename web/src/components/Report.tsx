import { toJson } from '@bufbuild/protobuf';
import { type Value, ValueSchema } from '@bufbuild/protobuf/wkt';
import type { ReportLine } from '../../../src/gen/pixel/v1/common_pb.ts';
import { formatValue } from '../format.ts';
import { ScrollBox } from './Scroll.tsx';

const show = (v: Value | undefined): string =>
  v === undefined || v.kind.case === undefined ? '—' : formatValue(toJson(ValueSchema, v));

const STATUS_TEXT: Record<string, string> = {
  native: 'honoured',
  adjusted: 'adjusted',
  emulated: 'emulated',
  dropped: 'not honoured',
};

/** The translation report: one row per parameter, what was asked, what the model gets, and why. */
export function ReportTable({ report, caption }: { report: readonly ReportLine[]; caption?: string }) {
  if (report.length === 0) return <p className="muted">No report lines.</p>;
  return (
    <ScrollBox className="table-wrap" label={caption ?? 'Translation report table'}>
      <table className="report">
        {caption && <caption>{caption}</caption>}
        <thead>
          <tr>
            <th scope="col">Parameter</th>
            <th scope="col">Outcome</th>
            <th scope="col">Requested</th>
            <th scope="col">Sent</th>
            <th scope="col">Note</th>
          </tr>
        </thead>
        <tbody>
          {report.map((line) => (
            <tr key={`${line.param}:${line.status}:${line.note}`} className={`status-${line.status}`}>
              <th scope="row">{line.param}</th>
              <td>
                <span className={`badge badge-${line.status}`}>
                  {STATUS_TEXT[line.status] ?? line.status}
                </span>
              </td>
              <td>
                <code>{show(line.requested)}</code>
              </td>
              <td>
                <code>{show(line.sent)}</code>
              </td>
              <td>{line.note}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollBox>
  );
}

/** The parameters the model cannot honour as asked (dropped, emulated or adjusted), for a warning. */
export function unhonoured(report: readonly ReportLine[]): ReportLine[] {
  return report.filter((l) => l.status === 'dropped' || l.status === 'emulated' || l.status === 'adjusted');
}
