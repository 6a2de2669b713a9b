import type { GateResult } from '../../../src/gen/pixel/v1/quality_pb.ts';
import { formatCost } from '../format.ts';
import { Link } from '../router.tsx';
import { ScrollBox } from './Scroll.tsx';

const score = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(2));

/** The quality gate's rounds: each round's prompt, image, score and the judge's answer per question. */
export function GateRounds({ gate }: { gate: GateResult }) {
  const v = gate.verdict;
  return (
    <section className="gate" aria-label="Quality gate">
      <h4>
        Quality gate:{' '}
        <span className={`badge ${v?.status === 'passed' ? 'badge-native' : 'badge-dropped'}`}>
          {v?.status ?? '—'}
        </span>{' '}
        <span className="muted small-text">
          score {score(v?.score)} (threshold {v?.threshold ?? '—'}), round {v?.round ?? '—'} of{' '}
          {gate.rounds.length}, judge {gate.judge}, {formatCost(gate.spentUsd)}
          {v?.stopReason ? `, stopped: ${v.stopReason}` : ''}
        </span>
      </h4>
      {gate.rounds.map((r) => (
        <details key={r.round} className="json" open={r.round === v?.round}>
          <summary>
            Round {r.round}: {r.status}, score {score(r.score)}
            {r.failed.length > 0 && ` · failed: ${r.failed.join(', ')}`}
          </summary>
          <p className="small-text">
            Image <Link to={`/images/${r.imageId}`}>{r.imageId}</Link> · {r.model} · {formatCost(r.costUsd)}
          </p>
          <p className="prompt-text">
            {r.prompt} <span className="muted small-text">({r.writer})</span>
          </p>
          <ScrollBox className="table-wrap" label={`Answers of round ${r.round}`}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Question</th>
                  <th scope="col">Answer</th>
                  <th scope="col" className="num">
                    P(yes)
                  </th>
                  <th scope="col">How</th>
                  <th scope="col">Note</th>
                </tr>
              </thead>
              <tbody>
                {r.answers.map((a) => (
                  <tr key={`${a.questionId}:${a.judge}`}>
                    <th scope="row">{a.questionId}</th>
                    <td>{a.skipped ? 'skipped' : a.answer}</td>
                    <td className="num">{a.pYes === undefined ? '—' : a.pYes.toFixed(2)}</td>
                    <td>
                      {a.judge} · {a.path}
                    </td>
                    <td>{a.note ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollBox>
        </details>
      ))}
    </section>
  );
}
