import type { JsonObject } from '@bufbuild/protobuf';
import { asObject } from '../format.ts';
import { ScrollBox } from './Scroll.tsx';

const num = (v: unknown) => (typeof v === 'number' ? v.toFixed(2) : '—');
const text = (v: unknown) => (v === undefined || v === null ? '—' : String(v));

/** A fine-tune against its base on held-out prompts: scores, margin, wins per prompt and the verdict. */
export function FinetuneEvaluation({ evaluation, label }: { evaluation: JsonObject; label: string }) {
  const wins = asObject(evaluation.wins);
  const prompts = Array.isArray(evaluation.prompts) ? evaluation.prompts.map(asObject) : [];
  const questions = Array.isArray(evaluation.questions) ? evaluation.questions.map(String) : [];
  const passed = evaluation.passed === true;
  return (
    <div>
      <p className={passed ? 'ok' : 'warning'}>
        <strong>{passed ? 'Passed' : 'Did not pass'}:</strong> {text(evaluation.verdict)}
      </p>
      <dl className="facts inline">
        <div>
          <dt>Fine-tune score</dt>
          <dd>{num(evaluation.finetuneScore)}</dd>
        </div>
        <div>
          <dt>Base score</dt>
          <dd>
            {num(evaluation.baseScore)} ({text(evaluation.baseModel)})
          </dd>
        </div>
        <div>
          <dt>Margin needed</dt>
          <dd>{num(evaluation.margin)}</dd>
        </div>
        <div>
          <dt>Wins (tune / base / tie)</dt>
          <dd>
            {text(wins.finetune)} / {text(wins.base)} / {text(wins.tie)}
          </dd>
        </div>
        <div>
          <dt>Judge</dt>
          <dd>{text(evaluation.judge)}</dd>
        </div>
      </dl>
      {questions.length > 0 && (
        <p className="small-text">
          <strong>Questions:</strong> {questions.join(' · ')}
        </p>
      )}
      {prompts.length > 0 && (
        <ScrollBox className="table-wrap" label={label}>
          <table>
            <thead>
              <tr>
                <th scope="col">Held-out prompt</th>
                <th scope="col" className="num">
                  Seed
                </th>
                <th scope="col" className="num">
                  Fine-tune
                </th>
                <th scope="col" className="num">
                  Base
                </th>
                <th scope="col">Winner</th>
              </tr>
            </thead>
            <tbody>
              {prompts.map((p) => (
                <tr key={`${text(p.prompt)}:${text(p.seed)}`}>
                  <th scope="row">{text(p.prompt)}</th>
                  <td className="num">{text(p.seed)}</td>
                  <td className="num">{num(p.finetune)}</td>
                  <td className="num">{num(p.base)}</td>
                  <td>{text(p.winner)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      )}
    </div>
  );
}
