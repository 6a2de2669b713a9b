import type { JsonObject } from '@bufbuild/protobuf';
import { asObject } from '../format.ts';
import { ScrollBox } from './Scroll.tsx';

const text = (v: unknown) => (v === undefined || v === null ? '—' : String(v));
const num = (v: unknown) => (typeof v === 'number' ? v.toFixed(2) : '—');

/** The quality gate's stored evaluation of one image: its round, score and the answer per question. */
export function JudgeRecord({ judge }: { judge: JsonObject }) {
  const answers = Array.isArray(judge.answers) ? judge.answers.map(asObject) : [];
  const reasons = Array.isArray(judge.reasons) ? judge.reasons.map(String) : [];
  return (
    <div>
      <dl className="facts inline">
        <div>
          <dt>Round</dt>
          <dd>{text(judge.round)}</dd>
        </div>
        <div>
          <dt>Outcome</dt>
          <dd>{text(judge.status)}</dd>
        </div>
        <div>
          <dt>Score</dt>
          <dd>
            {num(judge.score)} (threshold {text(judge.threshold)})
          </dd>
        </div>
        <div>
          <dt>Judge</dt>
          <dd>{text(judge.judge)}</dd>
        </div>
        <div>
          <dt>Prompt writer</dt>
          <dd>{text(judge.writer)}</dd>
        </div>
      </dl>
      {reasons.length > 0 && (
        <ul className="notes muted">
          {reasons.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      )}
      <ScrollBox className="table-wrap" label="Judge answers">
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
            {answers.map((a) => (
              <tr key={`${text(a.questionId)}:${text(a.judge)}`}>
                <th scope="row">{text(a.questionId)}</th>
                <td>{a.skipped === true ? 'skipped' : text(a.answer)}</td>
                <td className="num">{num(a.pYes)}</td>
                <td>
                  {text(a.judge)} · {text(a.path)}
                </td>
                <td>{a.note === undefined ? '' : text(a.note)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollBox>
    </div>
  );
}
