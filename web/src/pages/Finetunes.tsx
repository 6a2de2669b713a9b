import { type FormEvent, useEffect, useState } from 'react';
import type { Finetune } from '../../../src/gen/pixel/v1/finetunes_pb.ts';
import { errorText, isUnimplemented } from '../api.ts';
import { DatasetForm } from '../components/DatasetForm.tsx';
import { FinetuneEvaluation } from '../components/FinetuneEvaluation.tsx';
import { ScrollBox } from '../components/Scroll.tsx';
import { formatDate } from '../format.ts';
import { useApp, useLoad, useTitle } from '../hooks.ts';
import { Link } from '../router.tsx';
import { NotBuilt } from './NotBuilt.tsx';

const BACKENDS = [
  { value: 'sketch', label: 'sketch (offline, pixel/sketch-tune)' },
  { value: 'replicate', label: 'replicate' },
  { value: 'fal', label: 'fal' },
  { value: 'self-hosted', label: 'self-hosted GPU box' },
  { value: 'import', label: 'import (a LoRA trained elsewhere)' },
];
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
/** How often the page asks again while a job is queued, training or evaluating. */
const POLL_MS = 1500;

const playgroundLink = (model: string) =>
  `/?${new URLSearchParams({ settings: JSON.stringify({ mode: 'model', model }) })}`;

/** Fine-tunes: datasets, training jobs with live progress, and the tuned models with their evaluation. */
export function Finetunes() {
  useTitle('Fine-tunes');
  const { clients, session } = useApp();
  const datasets = useLoad((signal) => clients.finetunes.listDatasets({}, { signal }), [clients]);
  const [tick, setTick] = useState(0);
  const jobs = useLoad((signal) => clients.finetunes.listFinetunes({}, { signal }), [clients, tick]);
  const models = useLoad((signal) => clients.models.listModels({}, { signal }), [clients]);
  const [status, setStatus] = useState<{ ok?: string; error?: string }>({});
  const canWrite = session.role !== 'viewer';

  const list = jobs.data?.finetunes ?? [];
  const active = list.some((j) => !TERMINAL.has(j.state));
  // Live progress: while any job is still running, ask again after a short pause.
  useEffect(() => {
    if (!active || jobs.loading) return;
    const timer = setTimeout(() => setTick((t) => t + 1), POLL_MS);
    return () => clearTimeout(timer);
  }, [active, jobs.loading]);

  if (jobs.error && isUnimplemented(jobs.errorValue)) return <NotBuilt page="fine-tunes" />;

  const act = async (call: () => Promise<Finetune>, said: (job: Finetune) => string) => {
    setStatus({});
    try {
      setStatus({ ok: said(await call()) });
      setTick((t) => t + 1);
    } catch (e) {
      setStatus({ error: errorText(e) });
    }
  };

  const trained = list.filter((j) => j.state === 'succeeded' || j.evaluation);
  const baseModels = (models.data?.models ?? []).filter((m) => !m.id.startsWith('ft/'));

  return (
    <div className="page">
      <header className="page-head">
        <h1>Fine-tunes</h1>
        <p className="muted">
          Train a model on one product category, check it against its base on held-out prompts, and serve it
          as <code>ft/&lt;name&gt;</code> once promoted.
        </p>
      </header>
      <div aria-live="polite">
        {status.ok && <p className="ok">{status.ok}</p>}
        {status.error && (
          <p className="error" role="alert">
            {status.error}
          </p>
        )}
      </div>

      <section className="panel" aria-labelledby="ft-ds-h">
        <h2 id="ft-ds-h">Datasets</h2>
        {datasets.error && (
          <p className="error" role="alert">
            {datasets.error}
          </p>
        )}
        {datasets.data && datasets.data.datasets.length === 0 && (
          <p className="muted">No datasets yet: create one below.</p>
        )}
        {datasets.data && datasets.data.datasets.length > 0 && (
          <ScrollBox className="table-wrap" label="Dataset list">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Category</th>
                  <th scope="col">Source</th>
                  <th scope="col" className="num">
                    Images
                  </th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {datasets.data.datasets.map((d) => (
                  <tr key={d.id}>
                    <th scope="row">{d.name}</th>
                    <td>{d.category}</td>
                    <td>{d.source}</td>
                    <td className="num">{d.images.length}</td>
                    <td>{formatDate(d.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollBox>
        )}
        <DatasetForm
          onCreated={(d) => {
            setStatus({ ok: `Dataset ${d.name} created with ${d.images.length} images.` });
            datasets.reload();
          }}
        />
      </section>

      <section className="panel" aria-labelledby="ft-start-h">
        <h2 id="ft-start-h">Start a fine-tune</h2>
        <StartForm
          datasets={(datasets.data?.datasets ?? []).map((d) => d.name)}
          baseModels={baseModels.map((m) => m.id)}
          disabled={!canWrite}
          onStarted={(job) => {
            setStatus({ ok: `Started ${job.model} (${job.backend}).` });
            setTick((t) => t + 1);
          }}
        />
      </section>

      <section className="panel" aria-labelledby="ft-jobs-h">
        <h2 id="ft-jobs-h">Jobs</h2>
        {jobs.error && (
          <p className="error" role="alert">
            {jobs.error}
          </p>
        )}
        {jobs.data && list.length === 0 && <p className="muted">No fine-tune jobs yet.</p>}
        {list.length > 0 && (
          <ScrollBox className="table-wrap" label="Fine-tune jobs">
            <table>
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Backend</th>
                  <th scope="col">Base</th>
                  <th scope="col">State</th>
                  <th scope="col">Progress</th>
                  <th scope="col">Updated</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {list.map((j) => (
                  <tr key={j.id}>
                    <th scope="row">
                      <code>{j.model}</code>
                      <span className="block muted small-text">
                        trigger {j.trigger} · {j.classNoun}
                      </span>
                    </th>
                    <td>{j.backend}</td>
                    <td>{j.baseModel}</td>
                    <td>
                      <span className={`badge state-${j.state}`}>{j.state}</span>
                      {j.cancelRequested && !TERMINAL.has(j.state) && (
                        <span className="block muted small-text">cancelling…</span>
                      )}
                      {j.error && <span className="block small-text">{j.error}</span>}
                    </td>
                    <td>
                      <progress
                        className="job-progress"
                        max={1}
                        value={j.state === 'succeeded' ? 1 : j.progress}
                        aria-label={`Progress of ${j.model}`}
                      />{' '}
                      <span className="small-text">
                        {Math.round((j.state === 'succeeded' ? 1 : j.progress) * 100)}%
                      </span>
                    </td>
                    <td>{formatDate(j.updatedAt)}</td>
                    <td>
                      {!TERMINAL.has(j.state) && (
                        <button
                          type="button"
                          className="secondary small"
                          disabled={!canWrite || j.cancelRequested}
                          aria-label={`Cancel ${j.model}`}
                          onClick={() =>
                            act(
                              () => clients.finetunes.cancelFinetune({ id: j.id }),
                              (job) =>
                                job.state === 'cancelled'
                                  ? `Cancelled ${job.model}.`
                                  : `Asked ${job.model} to stop (it is ${job.state}).`,
                            )
                          }
                        >
                          Cancel
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollBox>
        )}
      </section>

      <section className="panel" aria-labelledby="ft-models-h">
        <h2 id="ft-models-h">Models and their evaluation</h2>
        {trained.length === 0 && (
          <p className="muted">
            No trained models yet: a job that finishes training is evaluated and listed here.
          </p>
        )}
        {trained.map((j) => (
          <article key={j.id} className="ft-model" aria-labelledby={`ftm-${j.id}`}>
            <h3 id={`ftm-${j.id}`}>
              <code>{j.model}</code>{' '}
              {j.promoted ? (
                <span className="badge badge-native">promoted: serves ft/{j.name}</span>
              ) : (
                <span className="badge badge-adjusted">not promoted</span>
              )}
            </h3>
            {j.evaluation ? (
              <FinetuneEvaluation evaluation={j.evaluation} label={`Evaluation of ${j.model}`} />
            ) : (
              <p className="muted">Not evaluated yet.</p>
            )}
            <div className="actions wrap">
              {j.state === 'succeeded' && !j.promoted && (
                <button
                  type="button"
                  className="small"
                  disabled={!canWrite}
                  onClick={() => {
                    const force = j.evaluation?.passed !== true;
                    if (
                      force &&
                      !window.confirm(
                        `${j.model} did not pass its evaluation. Promote it to ft/${j.name} anyway?`,
                      )
                    )
                      return;
                    void act(
                      () => clients.finetunes.promoteFinetune({ id: j.id, force }),
                      (job) => `Promoted ${job.model}: it now serves ft/${job.name}.`,
                    );
                  }}
                >
                  {j.evaluation?.passed === true ? `Promote ${j.model}` : `Promote ${j.model} anyway`}
                </button>
              )}
              {j.state === 'succeeded' && (
                <Link className="button secondary small" to={playgroundLink(j.model)}>
                  Try {j.model} in the playground
                </Link>
              )}
            </div>
          </article>
        ))}
      </section>
    </div>
  );
}

function StartForm(props: {
  datasets: string[];
  baseModels: string[];
  disabled: boolean;
  onStarted: (job: Finetune) => void;
}) {
  const { clients } = useApp();
  const [dataset, setDataset] = useState('');
  const [backend, setBackend] = useState('sketch');
  const [base, setBase] = useState('pixel/sketch');
  const [trigger, setTrigger] = useState('TOK');
  const [classNoun, setClassNoun] = useState('');
  const [name, setName] = useState('');
  const [steps, setSteps] = useState('');
  const [lora, setLora] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const chosen = dataset || props.datasets[0] || '';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const job = await clients.finetunes.startFinetune({
        dataset: chosen,
        backend,
        baseModel: base,
        trigger,
        ...(classNoun && { classNoun }),
        ...(name && { name }),
        ...(backend === 'import' ? { lora } : steps && { steps: Number(steps) }),
      });
      props.onStarted(job);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  if (props.datasets.length === 0) return <p className="muted">Create a dataset first.</p>;
  return (
    <form onSubmit={submit} aria-labelledby="ft-start-h">
      <div className="row">
        <div className="field">
          <label htmlFor="ft-dataset">Dataset</label>
          <select id="ft-dataset" value={chosen} onChange={(e) => setDataset(e.target.value)}>
            {props.datasets.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="ft-backend">Backend</label>
          <select id="ft-backend" value={backend} onChange={(e) => setBackend(e.target.value)}>
            {BACKENDS.map((b) => (
              <option key={b.value} value={b.value}>
                {b.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="ft-base">Base model</label>
          <input
            id="ft-base"
            list="ft-bases"
            required
            value={base}
            onChange={(e) => setBase(e.target.value)}
          />
          <datalist id="ft-bases">
            {props.baseModels.map((m) => (
              <option key={m} value={m} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor="ft-trigger">Trigger word</label>
          <input id="ft-trigger" required value={trigger} onChange={(e) => setTrigger(e.target.value)} />
        </div>
      </div>
      <div className="row">
        <div className="field">
          <label htmlFor="ft-noun">
            Class noun <span className="required">(default: the category)</span>
          </label>
          <input id="ft-noun" value={classNoun} onChange={(e) => setClassNoun(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="ft-name">
            Served name <span className="required">(default: the dataset's)</span>
          </label>
          <input id="ft-name" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        {backend === 'import' ? (
          <div className="field">
            <label htmlFor="ft-lora">
              LoRA <span className="required">(file name on the a1111/comfyui host, or its URL on fal)</span>
            </label>
            <input id="ft-lora" required value={lora} onChange={(e) => setLora(e.target.value)} />
          </div>
        ) : (
          <div className="field">
            <label htmlFor="ft-steps">
              Steps <span className="required">(default 1000)</span>
            </label>
            <input
              id="ft-steps"
              type="number"
              min={1}
              max={100000}
              value={steps}
              onChange={(e) => setSteps(e.target.value)}
            />
          </div>
        )}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={props.disabled || busy}>
        {busy ? 'Starting…' : 'Start fine-tune'}
      </button>
    </form>
  );
}
