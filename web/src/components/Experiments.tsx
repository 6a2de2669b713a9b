import { useState } from 'react';
import type { ExperimentReport } from '../../../src/gen/pixel/v1/batches_pb.ts';
import { isUnimplemented } from '../api.ts';
import { formatCost, formatDate } from '../format.ts';
import { useApp, useLoad } from '../hooks.ts';
import { ExperimentGrid, type PickSide } from './ExperimentGrid.tsx';
import { ScrollBox } from './Scroll.tsx';

const pct = (v: number | undefined) => (v === undefined ? '—' : `${Math.round(v * 100)}%`);
const ms = (v: number | undefined) => (v === undefined ? '—' : `${v} ms`);

/**
 * An experiment's candidates side by side (pass rate, approval, cost, latency), the recommendation, and its
 * items × candidates grid (any two of its images go to the A/B comparison through `onPick`).
 */
export function Experiments({ onPick, gridPage }: { onPick?: PickSide; gridPage?: number }) {
  const { clients } = useApp();
  const runs = useLoad((signal) => clients.batches.listRuns({ kind: 'experiment' }, { signal }), [clients]);
  const [chosen, setChosen] = useState('');
  const runId = chosen || runs.data?.runs[0]?.id || '';
  const report = useLoad(
    (signal) =>
      runId ? clients.batches.getExperimentReport({ id: runId }, { signal }) : Promise.resolve(undefined),
    [clients, runId],
  );

  if (runs.error && isUnimplemented(runs.errorValue)) {
    return (
      <section className="panel" aria-labelledby="exp-h">
        <h2 id="exp-h">Experiments</h2>
        <p>Experiments are not available on this server: it has no experiments service.</p>
      </section>
    );
  }
  const list = runs.data?.runs ?? [];
  return (
    <section className="panel" aria-labelledby="exp-h">
      <h2 id="exp-h">Experiments</h2>
      {runs.error && (
        <p className="error" role="alert">
          {runs.error}
        </p>
      )}
      {runs.data && list.length === 0 && (
        <p className="muted">
          No experiments yet. Import a dataset and start one with <code>pixel datasets import</code> and{' '}
          <code>pixel experiments run</code> (or the BatchService API); it appears here.
        </p>
      )}
      {list.length > 0 && (
        <div className="row end">
          <div className="field grow">
            <label htmlFor="exp-run">Experiment</label>
            <select id="exp-run" value={runId} onChange={(e) => setChosen(e.target.value)}>
              {list.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.application} · {r.candidates.length} candidates · {r.cellCount} cells · {r.state} ·{' '}
                  {formatDate(r.createdAt)}
                </option>
              ))}
            </select>
          </div>
          <button type="button" className="secondary" onClick={() => report.reload()}>
            Refresh
          </button>
        </div>
      )}
      {report.error && (
        <p className="error" role="alert">
          {report.error}
        </p>
      )}
      {report.data && <ReportView report={report.data} onPick={onPick} gridPage={gridPage} />}
    </section>
  );
}

function ReportView({
  report,
  onPick,
  gridPage,
}: {
  report: ExperimentReport;
  onPick?: PickSide;
  gridPage?: number | undefined;
}) {
  const rec = report.recommended;
  return (
    <div className="experiment">
      <p className="muted">
        {report.application}: {report.items} item{report.items === 1 ? '' : 's'} × {report.candidates.length}{' '}
        candidates, {report.state}.
      </p>
      {rec ? (
        <div className="ok" role="note" aria-label="Recommendation">
          <strong>
            Recommended: candidate {rec.candidate + 1}, {rec.model}.
          </strong>{' '}
          {rec.evidence}
          {rec.uncertainty && <span className="block">{rec.uncertainty}</span>}
        </div>
      ) : (
        <p className="muted">No recommendation yet.</p>
      )}
      <ScrollBox className="table-wrap" label="Candidates">
        <table>
          <thead>
            <tr>
              <th scope="col">Rank</th>
              <th scope="col">Candidate</th>
              <th scope="col" className="num">
                Images
              </th>
              <th scope="col" className="num">
                Accepted
              </th>
              <th scope="col" className="num">
                Pass rate
              </th>
              <th scope="col" className="num">
                Human approval
              </th>
              <th scope="col" className="num">
                Cost
              </th>
              <th scope="col" className="num">
                Per accepted
              </th>
              <th scope="col" className="num">
                Latency p50 / p95
              </th>
            </tr>
          </thead>
          <tbody>
            {report.candidates.map((c) => (
              <tr key={c.candidate} className={rec?.candidate === c.candidate ? 'recommended' : undefined}>
                <td>{c.rank}</td>
                <th scope="row">
                  {c.candidate + 1}. {c.model}
                  {c.overrides && Object.keys(c.overrides).length > 0 && (
                    <span className="block muted small-text">{JSON.stringify(c.overrides)}</span>
                  )}
                </th>
                <td className="num">{c.n}</td>
                <td className="num">
                  {c.accepted}
                  <span className="block muted small-text">by {c.acceptedBy}</span>
                </td>
                <td className="num">
                  {pct(c.passRate)}
                  {c.passRateCiLow !== undefined && c.passRateCiHigh !== undefined && (
                    <span className="block muted small-text">
                      {pct(c.passRateCiLow)}–{pct(c.passRateCiHigh)}
                    </span>
                  )}
                </td>
                <td className="num">
                  {pct(c.humanApproval)}
                  <span className="block muted small-text">{c.reviewed} reviewed</span>
                </td>
                <td className="num">{formatCost(c.costUsd)}</td>
                <td className="num">{formatCost(c.costPerAcceptedUsd)}</td>
                <td className="num">
                  {ms(c.latencyP50Ms)} / {ms(c.latencyP95Ms)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollBox>
      {report.notes.length > 0 && (
        <ul className="notes muted">
          {report.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      <ExperimentGrid
        runId={report.runId}
        candidates={report.candidates}
        onPick={onPick}
        pageSize={gridPage}
      />
    </div>
  );
}
