import type { JsonObject } from '@bufbuild/protobuf';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ReportLine } from '../../../src/gen/pixel/v1/common_pb.ts';
import type { GenerateProgress, Image } from '../../../src/gen/pixel/v1/images_pb.ts';
import type { NativeCall } from '../../../src/gen/pixel/v1/models_pb.ts';
import type { GateResult } from '../../../src/gen/pixel/v1/quality_pb.ts';
import { errorText, isAborted } from '../api.ts';
import { Capabilities } from '../components/Capabilities.tsx';
import { GateRounds } from '../components/GateRounds.tsx';
import { JsonBlock } from '../components/Json.tsx';
import { ReportTable, unhonoured } from '../components/Report.tsx';
import { asObject, formatCost, randomSeed } from '../format.ts';
import { useApp, useLoad, useTitle } from '../hooks.ts';
import { EMPTY_FORM, formFromQuery, formOf, type PlaygroundForm, requestOf, STYLES } from '../request.ts';
import { Link, navigate, useLocation } from '../router.tsx';

interface Preview {
  model: string;
  prompt?: string;
  negativePrompt?: string;
  report: ReportLine[];
  calls: NativeCall[];
  costEstimateUsd?: number;
  unusedVars: string[];
  via?: string;
}

interface Run {
  id: number;
  images: Image[];
  notes: string[];
  route: string;
  gate?: GateResult;
}

interface Variable {
  name: string;
  description: string;
  example: string;
  defaultValue?: string;
}

function variablesOf(profile: JsonObject | undefined): Variable[] {
  const vars = asObject(profile?.variables);
  return Object.entries(vars).map(([name, raw]) => {
    const v = asObject(raw);
    return {
      name,
      description: typeof v.description === 'string' ? v.description : '',
      example: typeof v.example === 'string' ? v.example : '',
      ...(typeof v.default === 'string' && { defaultValue: v.default }),
    };
  });
}

/**
 * What the playground holds while you visit other pages of the app (this tab, this sign-in): the form
 * and the runs so far.
 */
const memory: { owner?: string; form?: PlaygroundForm; runs: Run[]; counter: number } = {
  runs: [],
  counter: 0,
};

export function Playground() {
  useTitle('Playground');
  const { clients, session } = useApp();
  const location = useLocation();
  const owner = `${session.key ?? 'anonymous'}@${session.team}`;
  if (memory.owner !== owner) {
    memory.owner = owner;
    memory.form = undefined;
    memory.runs = [];
    memory.counter = 0;
  }
  const [form, setForm] = useState<PlaygroundForm>(
    () => formFromQuery(location.searchParams) ?? memory.form ?? EMPTY_FORM,
  );
  const [preview, setPreview] = useState<Preview | undefined>();
  const [previewError, setPreviewError] = useState<string | undefined>();
  const [runs, setRuns] = useState<Run[]>(memory.runs);
  const [progress, setProgress] = useState<GenerateProgress | undefined>();
  const [running, setRunning] = useState<AbortController | undefined>();
  const [error, setError] = useState<string | undefined>();
  const runCounter = useRef(memory.counter);
  useEffect(() => {
    memory.form = form;
    memory.runs = runs;
    memory.counter = runCounter.current;
  }, [form, runs]);
  // For the first-render figure (scripts/web-figures.ts): when the playground first committed.
  useEffect(() => {
    performance.mark('pixel:playground-rendered');
  }, []);

  // Settings carried in the URL ("reuse settings" from the history) replace the form once.
  useEffect(() => {
    const carried = formFromQuery(location.searchParams);
    if (carried) {
      setForm(carried);
      navigate('/', { replace: true });
    }
  }, [location]);

  const models = useLoad((signal) => clients.models.listModels({}, { signal }), [clients]);
  const apps = useLoad((signal) => clients.apps.listApplications({}, { signal }), [clients]);
  const app = useLoad(
    (signal) =>
      form.mode === 'app' && form.app
        ? clients.apps.getApplication({ name: form.app }, { signal })
        : Promise.resolve(undefined),
    [clients, form.mode, form.app],
  );
  const variables = useMemo(() => variablesOf(app.data?.profile), [app.data]);

  // Default model: the first configured one (pixel/sketch offline).
  useEffect(() => {
    if (form.model || !models.data || form.mode === 'app') return;
    const first = models.data.models.find((m) => m.configured) ?? models.data.models[0];
    if (first) setForm((f) => ({ ...f, model: first.id }));
  }, [models.data, form.model, form.mode]);

  const request = useMemo(() => requestOf(form), [form]);

  // The translation preview, before anything is generated: what the model gets and what it cannot honour.
  useEffect(() => {
    if (form.mode === 'model' && (!form.model || form.prompt.trim() === '')) {
      setPreview(undefined);
      setPreviewError(undefined);
      return;
    }
    if (form.mode === 'app' && !form.app) return;
    const controller = new AbortController();
    // The previews translate the request; the gate runs only on Generate.
    const { gate: _gate, ...previewed } = request;
    const timer = setTimeout(async () => {
      try {
        if (form.mode === 'app') {
          const r = await clients.apps.previewApplication(
            { name: form.app, vars: request.vars ?? {}, request: previewed },
            { signal: controller.signal },
          );
          setPreview({
            model: r.routedModel ?? r.model,
            prompt: r.prompt,
            negativePrompt: r.negativePrompt,
            report: r.report,
            calls: r.calls,
            costEstimateUsd: r.costEstimateUsd,
            unusedVars: r.unusedVars,
            via: `${r.app} v${r.appVersion} (${r.via})`,
          });
        } else {
          const r = await clients.models.translatePreview(previewed, { signal: controller.signal });
          setPreview({
            model: r.model,
            report: r.report,
            calls: r.calls,
            costEstimateUsd: r.costEstimateUsd,
            unusedVars: [],
          });
        }
        setPreviewError(undefined);
      } catch (e) {
        if (!isAborted(e)) {
          setPreview(undefined);
          setPreviewError(errorText(e));
        }
      }
    }, 250);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [clients, request, form.mode, form.app, form.model, form.prompt]);

  const chosenModel = models.data?.models.find((m) => m.id === (preview?.model ?? form.model));
  const warnings = preview ? unhonoured(preview.report) : [];
  const canWrite = session.role !== 'viewer';

  const set = <K extends keyof PlaygroundForm>(key: K, value: PlaygroundForm[K]) =>
    setForm((f) => ({ ...f, [key]: value }));

  async function generate(f: PlaygroundForm) {
    running?.abort();
    const controller = new AbortController();
    setRunning(controller);
    setError(undefined);
    setProgress(undefined);
    try {
      for await (const event of clients.images.generateStream(requestOf(f), { signal: controller.signal })) {
        if (event.event.case === 'progress') setProgress(event.event.value);
        else if (event.event.case === 'result') {
          const result = event.event.value;
          runCounter.current += 1;
          const run: Run = {
            id: runCounter.current,
            images: result.images,
            notes: result.notes,
            route: result.route,
            ...(result.gate && { gate: result.gate }),
          };
          setRuns((r) => [run, ...r].slice(0, 12));
        }
      }
    } catch (e) {
      if (!isAborted(e)) setError(errorText(e));
    } finally {
      setRunning(undefined);
      setProgress(undefined);
    }
  }

  async function accept(image: Image) {
    try {
      const updated = await clients.images.acceptImage({ id: image.id });
      setRuns((rs) =>
        rs.map((r) => ({ ...r, images: r.images.map((i) => (i.id === updated.id ? updated : i)) })),
      );
    } catch (e) {
      setError(errorText(e));
    }
  }

  function vary(image: Image) {
    const next = { ...formOf(image), seed: String(randomSeed()), n: form.n };
    setForm(next);
    void generate(next);
  }

  function reuse(image: Image) {
    setForm(formOf(image));
    document.getElementById('prompt')?.focus();
  }

  const nValue = Number(form.n) || 1;

  return (
    <div className="page">
      <header className="page-head">
        <h1>Playground</h1>
        <p className="muted">
          Pick a model or an application, see what the model will honour, then generate variations and accept
          one.
        </p>
      </header>
      <div className="playground">
        <form
          className="panel controls"
          aria-label="Generation settings"
          onSubmit={(e) => {
            e.preventDefault();
            void generate(form);
          }}
        >
          <fieldset className="segmented">
            <legend>Generate from</legend>
            <label>
              <input
                type="radio"
                name="mode"
                value="model"
                checked={form.mode === 'model'}
                onChange={() => set('mode', 'model')}
              />
              A model
            </label>
            <label>
              <input
                type="radio"
                name="mode"
                value="app"
                checked={form.mode === 'app'}
                onChange={() =>
                  setForm((f) => ({
                    ...f,
                    mode: 'app',
                    app: f.app || apps.data?.applications[0]?.name || '',
                  }))
                }
              />
              An application
            </label>
          </fieldset>

          {form.mode === 'app' && (
            <div className="field">
              <label htmlFor="app">Application</label>
              <select
                id="app"
                value={form.app}
                onChange={(e) => setForm((f) => ({ ...f, app: e.target.value, vars: {} }))}
              >
                {apps.data?.applications.map((a) => (
                  <option key={a.name} value={a.name}>
                    {a.title || a.name}
                  </option>
                ))}
              </select>
            </div>
          )}

          {form.mode === 'app' && variables.length > 0 && (
            <fieldset className="vars">
              <legend>Item</legend>
              {variables.map((v) => (
                <div className="field" key={v.name}>
                  <label htmlFor={`var-${v.name}`}>
                    {v.name}
                    {v.defaultValue === undefined && <span className="required"> (required)</span>}
                  </label>
                  <input
                    id={`var-${v.name}`}
                    value={form.vars[v.name] ?? ''}
                    placeholder={v.example || v.defaultValue || ''}
                    aria-describedby={v.description ? `var-${v.name}-help` : undefined}
                    onChange={(e) =>
                      setForm((f) => ({ ...f, vars: { ...f.vars, [v.name]: e.target.value } }))
                    }
                  />
                  {v.description && (
                    <small id={`var-${v.name}-help`} className="help">
                      {v.description}
                    </small>
                  )}
                </div>
              ))}
            </fieldset>
          )}

          <div className="field">
            <label htmlFor="model">Model</label>
            <select id="model" value={form.model} onChange={(e) => set('model', e.target.value)}>
              {form.mode === 'app' && <option value="">The application's default</option>}
              {models.data?.models.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.id}
                  {m.configured ? '' : ' (not configured)'}
                </option>
              ))}
            </select>
          </div>

          {form.mode === 'model' && (
            <div className="field">
              <label htmlFor="prompt">Prompt</label>
              <textarea
                id="prompt"
                rows={4}
                required
                value={form.prompt}
                placeholder="a ribeye steak on a slate board"
                onChange={(e) => set('prompt', e.target.value)}
              />
            </div>
          )}

          <div className="field">
            <label htmlFor="negative">Negative prompt</label>
            <input
              id="negative"
              value={form.negativePrompt}
              placeholder="text, watermark"
              onChange={(e) => set('negativePrompt', e.target.value)}
            />
          </div>

          <fieldset className="size">
            <legend>Size</legend>
            <div className="field">
              <label htmlFor="size-mode">Size by</label>
              <select
                id="size-mode"
                value={form.sizeMode}
                onChange={(e) => set('sizeMode', e.target.value as PlaygroundForm['sizeMode'])}
              >
                <option value="default">The model's default</option>
                <option value="size">Width × height</option>
                <option value="aspect">Aspect ratio</option>
              </select>
            </div>
            {form.sizeMode === 'size' && (
              <div className="row">
                <div className="field">
                  <label htmlFor="width">Width</label>
                  <input
                    id="width"
                    inputMode="numeric"
                    value={form.width}
                    onChange={(e) => set('width', e.target.value)}
                  />
                </div>
                <div className="field">
                  <label htmlFor="height">Height</label>
                  <input
                    id="height"
                    inputMode="numeric"
                    value={form.height}
                    onChange={(e) => set('height', e.target.value)}
                  />
                </div>
              </div>
            )}
            {form.sizeMode === 'aspect' && (
              <div className="field">
                <label htmlFor="aspect">Aspect ratio</label>
                <input
                  id="aspect"
                  value={form.aspectRatio}
                  placeholder="16:9"
                  onChange={(e) => set('aspectRatio', e.target.value)}
                />
              </div>
            )}
          </fieldset>

          <div className="row">
            <div className="field">
              <label htmlFor="style">Style</label>
              <select id="style" value={form.style} onChange={(e) => set('style', e.target.value)}>
                <option value="">None</option>
                {STYLES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="cfg">Guidance (cfg)</label>
              <input
                id="cfg"
                inputMode="decimal"
                value={form.cfgScale}
                placeholder="default"
                onChange={(e) => set('cfgScale', e.target.value)}
              />
            </div>
          </div>
          <div className="row">
            <div className="field">
              <label htmlFor="seed">Seed</label>
              <input
                id="seed"
                inputMode="numeric"
                value={form.seed}
                placeholder="random"
                onChange={(e) => set('seed', e.target.value)}
              />
            </div>
            <div className="field">
              <label htmlFor="n">Variations (n)</label>
              <input
                id="n"
                type="number"
                min={1}
                max={16}
                value={form.n}
                onChange={(e) => set('n', e.target.value)}
              />
            </div>
          </div>

          {form.mode === 'app' && (
            <label className="check">
              <input type="checkbox" checked={form.gate} onChange={(e) => set('gate', e.target.checked)} />
              Quality gate: judge each image against the application's rubric and refine the prompt
            </label>
          )}

          <div className="actions">
            <button type="submit" className="primary" disabled={!canWrite || running !== undefined}>
              {running ? 'Generating…' : `Generate ${nValue} variation${nValue === 1 ? '' : 's'}`}
            </button>
            {running && (
              <button type="button" className="secondary" onClick={() => running.abort()}>
                Cancel
              </button>
            )}
          </div>
          {!canWrite && (
            <p className="muted">Your key has the viewer role: it can preview but not generate.</p>
          )}
        </form>

        <div className="results">
          <section className="panel preview" aria-labelledby="preview-title">
            <h2 id="preview-title">Before you generate</h2>
            {previewError && (
              <p className="error" role="alert">
                {previewError}
              </p>
            )}
            {!preview && !previewError && (
              <p className="muted">
                {form.mode === 'model' ? 'Type a prompt to see' : 'Fill in the item to see'} what the model
                will be sent.
              </p>
            )}
            {chosenModel && <Capabilities model={chosenModel} />}
            {preview && (
              <>
                {warnings.length > 0 ? (
                  <div className="warning" role="note" aria-label="What the model cannot honour">
                    <strong>
                      {warnings.length} setting{warnings.length === 1 ? '' : 's'} not honoured as asked:
                    </strong>
                    <ul>
                      {warnings.map((w) => (
                        <li key={w.param}>
                          <code>{w.param}</code>: {w.status === 'dropped' ? 'not honoured' : w.status}
                          {w.note ? `. ${w.note}` : ''}
                        </li>
                      ))}
                    </ul>
                  </div>
                ) : (
                  <p className="ok">Every setting is honoured natively by {preview.model}.</p>
                )}
                <dl className="facts inline">
                  <div>
                    <dt>Model</dt>
                    <dd>{preview.model}</dd>
                  </div>
                  <div>
                    <dt>Estimated cost</dt>
                    <dd>{formatCost(preview.costEstimateUsd)}</dd>
                  </div>
                  {preview.via && (
                    <div>
                      <dt>Application</dt>
                      <dd>{preview.via}</dd>
                    </div>
                  )}
                </dl>
                {preview.prompt !== undefined && (
                  <div className="rendered">
                    <h3>Rendered prompt</h3>
                    <p className="prompt-text">{preview.prompt}</p>
                    {preview.negativePrompt && (
                      <p className="muted">
                        <strong>Negative:</strong> {preview.negativePrompt}
                      </p>
                    )}
                    {preview.unusedVars.length > 0 && (
                      <p className="muted">Unused variables: {preview.unusedVars.join(', ')}</p>
                    )}
                  </div>
                )}
                <ReportTable report={preview.report} caption="Translation report" />
                {preview.calls.map((call, i) => (
                  <JsonBlock
                    // biome-ignore lint/suspicious/noArrayIndexKey: the calls of one preview, in order
                    key={i}
                    title={`Native request${preview.calls.length > 1 ? ` ${i + 1} of ${preview.calls.length}` : ''} (${call.count} image${call.count === 1 ? '' : 's'})`}
                    value={call.body}
                  />
                ))}
              </>
            )}
          </section>

          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}

          <section aria-labelledby="variations-title" className="variations">
            <h2 id="variations-title">Variations</h2>
            <div aria-live="polite" className="progress-line">
              {running && (
                <>
                  <span>{progress ? `${progress.stage}: ${progress.message}` : 'starting…'}</span>
                  <progress
                    aria-label="Generation progress"
                    max={1}
                    value={progress?.fraction ?? undefined}
                  />
                </>
              )}
            </div>
            {running && (
              <div className="grid">
                {Array.from({ length: Math.min(16, nValue) }, (_, i) => `slot-${i + 1}`).map((slot) => (
                  <div key={slot} className="card placeholder" aria-hidden="true" />
                ))}
              </div>
            )}
            {runs.length === 0 && !running && <p className="muted">Nothing generated yet in this session.</p>}
            {runs.map((run) => (
              <div key={run.id} className="run">
                <h3 className="run-title">
                  Run {run.id} · {run.images.length} on {run.route}
                </h3>
                {run.gate && <GateRounds gate={run.gate} />}
                {run.notes.length > 0 && (
                  <ul className="notes muted">
                    {run.notes.map((note) => (
                      <li key={note}>{note}</li>
                    ))}
                  </ul>
                )}
                <ul className="grid" aria-label={`Run ${run.id} images`}>
                  {run.images.map((image, i) => (
                    <li key={image.id} className={`card${image.acceptedAt ? ' accepted' : ''}`}>
                      <Link to={`/images/${image.id}`} className="thumb">
                        <img
                          src={image.url}
                          alt={`Variation ${i + 1} of run ${run.id}: ${image.prompt.slice(0, 80)}`}
                          width={image.width}
                          height={image.height}
                        />
                      </Link>
                      <div className="card-body">
                        <div className="card-meta">
                          <span>seed {image.seed ?? '—'}</span>
                          <span>
                            {image.width}×{image.height}
                          </span>
                          {image.acceptedAt && <span className="badge badge-native">accepted</span>}
                        </div>
                        <div className="card-actions">
                          <button
                            type="button"
                            className="small"
                            disabled={!canWrite || image.acceptedAt !== undefined}
                            onClick={() => accept(image)}
                            aria-label={`${image.acceptedAt ? 'Accepted' : 'Accept'} variation ${i + 1} of run ${run.id}`}
                          >
                            {image.acceptedAt ? 'Accepted' : 'Accept'}
                          </button>
                          <button
                            type="button"
                            className="secondary small"
                            disabled={!canWrite || running !== undefined}
                            onClick={() => vary(image)}
                            aria-label={`Vary variation ${i + 1} of run ${run.id} (same prompt, new seeds)`}
                          >
                            Vary
                          </button>
                          <button
                            type="button"
                            className="secondary small"
                            onClick={() => reuse(image)}
                            aria-label={`Reuse the settings of variation ${i + 1} of run ${run.id}`}
                          >
                            Reuse
                          </button>
                        </div>
                      </div>
                    </li>
                  ))}
                </ul>
              </div>
            ))}
          </section>
        </div>
      </div>
    </div>
  );
}
