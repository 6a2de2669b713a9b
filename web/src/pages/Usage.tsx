import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { useState } from 'react';
import { isUnimplemented } from '../api.ts';
import { ScrollBox } from '../components/Scroll.tsx';
import { formatCost } from '../format.ts';
import { useApp, useLoad, useTitle } from '../hooks.ts';
import { NotBuilt } from './NotBuilt.tsx';

const PERIODS = [
  { value: '1', label: 'Last 24 hours' },
  { value: '7', label: 'Last 7 days' },
  { value: '30', label: 'Last 30 days' },
  { value: '', label: 'All time' },
];

const DAY_MS = 86_400_000;

export function Usage() {
  useTitle('Usage');
  const { clients, session } = useApp();
  const [days, setDays] = useState('30');
  const [team, setTeam] = useState('');
  const usage = useLoad(
    (signal) =>
      clients.batches.getUsage(
        {
          ...(team && { team }),
          ...(days && { since: timestampFromDate(new Date(Date.now() - Number(days) * DAY_MS)) }),
        },
        { signal },
      ),
    [clients, days, team],
  );
  if (usage.error && isUnimplemented(usage.errorValue)) return <NotBuilt page="usage" />;
  const u = usage.data;
  const budget = u?.teamBudgetUsd;
  const spent = u?.teamSpentThisMonthUsd ?? 0;
  return (
    <div className="page">
      <header className="page-head">
        <h1>Usage</h1>
        <p className="muted">
          Images and estimated cost {session.role === 'admin' ? 'per team' : `of team ${session.team}`}, by
          application and model, and the team's monthly budget.
        </p>
      </header>
      <form className="panel row end" aria-label="Usage period" onSubmit={(e) => e.preventDefault()}>
        <div className="field narrow">
          <label htmlFor="u-period">Period</label>
          <select id="u-period" value={days} onChange={(e) => setDays(e.target.value)}>
            {PERIODS.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </select>
        </div>
        {session.role === 'admin' && (
          <div className="field narrow">
            <label htmlFor="u-team">Team</label>
            <input
              id="u-team"
              value={team}
              placeholder="every team"
              onChange={(e) => setTeam(e.target.value)}
            />
          </div>
        )}
      </form>
      {usage.error && (
        <p className="error" role="alert">
          {usage.error}
        </p>
      )}
      {u && (
        <>
          <section className="panel" aria-labelledby="u-total">
            <h2 id="u-total">Totals</h2>
            <dl className="facts inline">
              <div>
                <dt>Images</dt>
                <dd>{u.totalImages}</dd>
              </div>
              <div>
                <dt>Estimated cost</dt>
                <dd>{formatCost(u.totalCostUsd)}</dd>
              </div>
              <div>
                <dt>Spent this month</dt>
                <dd>{formatCost(spent)}</dd>
              </div>
              <div>
                <dt>Monthly budget</dt>
                <dd>{budget === undefined ? 'none set' : formatCost(budget)}</dd>
              </div>
            </dl>
            {budget !== undefined && budget > 0 && (
              <>
                <label htmlFor="u-budget" className="small-text">
                  {Math.round((spent / budget) * 100)}% of this month's budget used
                </label>
                <progress id="u-budget" max={budget} value={Math.min(spent, budget)} className="budget" />
              </>
            )}
          </section>
          <section className="panel" aria-labelledby="u-rows">
            <h2 id="u-rows">By team, application and model</h2>
            {u.rows.length === 0 ? (
              <p className="muted">No images in this period.</p>
            ) : (
              <ScrollBox className="table-wrap" label="Usage by team, application and model">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Team</th>
                      <th scope="col">Application</th>
                      <th scope="col">Model</th>
                      <th scope="col" className="num">
                        Images
                      </th>
                      <th scope="col" className="num">
                        Cost
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {u.rows.map((r) => (
                      <tr key={`${r.team}|${r.application ?? ''}|${r.model}`}>
                        <td>{r.team}</td>
                        <td>{r.application ?? '—'}</td>
                        <th scope="row">{r.model}</th>
                        <td className="num">{r.images}</td>
                        <td className="num">{formatCost(r.costUsd)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </ScrollBox>
            )}
          </section>
          {u.runs.length > 0 && (
            <section className="panel" aria-labelledby="u-runs">
              <h2 id="u-runs">Batch runs and experiments</h2>
              <ScrollBox className="table-wrap" label="Usage by run">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Run</th>
                      <th scope="col">Kind</th>
                      <th scope="col">Team</th>
                      <th scope="col" className="num">
                        Images
                      </th>
                      <th scope="col" className="num">
                        Cost
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {u.runs.map((r) => (
                      <tr key={r.runId}>
                        <th scope="row">
                          <code>{r.runId}</code>
                        </th>
                        <td>{r.kind}</td>
                        <td>{r.team}</td>
                        <td className="num">{r.images}</td>
                        <td className="num">{formatCost(r.costUsd)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </ScrollBox>
            </section>
          )}
        </>
      )}
    </div>
  );
}
