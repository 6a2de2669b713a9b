import { useEffect, useState } from 'react';
import type { PreviewApplicationResponse } from '../../../src/gen/pixel/v1/apps_pb.ts';
import { errorText } from '../api.ts';
import { ScrollBox } from '../components/Scroll.tsx';
import { asObject, formatDate } from '../format.ts';
import { useApp, useLoad, useTitle } from '../hooks.ts';
import { Link } from '../router.tsx';

export function Applications({ name }: { name?: string }) {
  useTitle(name ? `Application ${name}` : 'Applications');
  const { clients } = useApp();
  const list = useLoad((signal) => clients.apps.listApplications({}, { signal }), [clients]);
  return (
    <div className="page">
      <header className="page-head">
        <h1>Applications</h1>
        <p className="muted">
          Prompt templates with defaults, rubric and few-shot examples. Every edit is a numbered version;
          labels pick which version a team or production uses.
        </p>
      </header>
      <div className="apps">
        <nav className="panel app-list" aria-label="Applications">
          {list.error && (
            <p className="error" role="alert">
              {list.error}
            </p>
          )}
          <ul>
            {list.data?.applications.map((a) => (
              <li key={a.name}>
                <Link to={`/apps/${a.name}`} aria-current={a.name === name ? 'page' : undefined}>
                  <span className="app-title">{a.title || a.name}</span>
                  <span className="muted small-text">
                    {a.name} · v{a.latestVersion}
                    {Object.keys(a.labels).length > 0 &&
                      ` · ${Object.entries(a.labels)
                        .map(([l, v]) => `${l}→v${v}`)
                        .join(', ')}`}
                  </span>
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        {name ? (
          <AppDetail key={name} name={name} />
        ) : (
          <p className="muted">Choose an application to see its versions, labels and template.</p>
        )}
      </div>
    </div>
  );
}

function AppDetail({ name }: { name: string }) {
  const { clients, session } = useApp();
  const detail = useLoad((signal) => clients.apps.getApplication({ name }, { signal }), [clients, name]);
  const history = useLoad(
    (signal) => clients.apps.listApplicationVersions({ name }, { signal }),
    [clients, name],
  );
  const [yaml, setYaml] = useState('');
  const [message, setMessage] = useState('');
  const teamLabel = `team:${session.team}`;
  const labelChoices =
    session.role === 'admin'
      ? [teamLabel, 'production', 'staging', '']
      : session.role === 'member'
        ? [teamLabel]
        : [];
  const [label, setLabel] = useState(labelChoices[0] ?? '');
  const [status, setStatus] = useState<{ ok?: string; error?: string }>({});
  const [diff, setDiff] = useState<{ from: string; to: string; text?: string; changed?: boolean }>({
    from: '',
    to: '',
  });
  const [moveTo, setMoveTo] = useState('');

  useEffect(() => {
    if (detail.data) setYaml(detail.data.yaml);
  }, [detail.data]);

  const reload = () => {
    detail.reload();
    history.reload();
  };
  const act = async (what: () => Promise<string>) => {
    setStatus({});
    try {
      setStatus({ ok: await what() });
      reload();
    } catch (e) {
      setStatus({ error: errorText(e) });
    }
  };

  const d = detail.data;
  if (detail.error)
    return (
      <p className="error" role="alert">
        {detail.error}
      </p>
    );
  if (!d) return <p className="muted">Loading…</p>;
  const versions = history.data?.versions ?? [];
  const canEdit = session.role !== 'viewer';

  const save = () =>
    act(async () => {
      const r = await clients.apps.updateApplication({
        name,
        profile: { case: 'yaml', value: yaml },
        ...(label !== '' && { label }),
        message: message || 'edited in the web UI',
        ...(d.version && { baseVersion: d.version.version }),
      });
      setMessage('');
      return `Saved as version ${r.version}${r.label ? `, now on ${r.label}` : ''}.`;
    });

  const rollback = (l: string) =>
    act(async () => {
      const r = await clients.apps.rollbackApplication({ name, label: l });
      return `${r.label} rolled back from v${r.fromVersion} to v${r.toVersion}.`;
    });

  const moveLabel = () =>
    act(async () => {
      const version = Number(moveTo);
      const r = await clients.apps.labelApplication({ name, label, version, message: 'moved in the web UI' });
      return `${label} now points at v${version}${r.previousVersion !== undefined ? ` (was v${r.previousVersion})` : ''}.`;
    });

  const showDiff = async () => {
    try {
      const r = await clients.apps.diffApplication({
        name,
        fromVersion: Number(diff.from),
        toVersion: Number(diff.to),
      });
      setDiff((x) => ({ ...x, text: r.text, changed: r.changed }));
    } catch (e) {
      setDiff((x) => ({ ...x, text: errorText(e), changed: undefined }));
    }
  };

  return (
    <div className="app-detail">
      <section className="panel" aria-labelledby="app-h">
        <h2 id="app-h">{String(asObject(d.profile).title ?? name)}</h2>
        <dl className="facts inline">
          <div>
            <dt>You get</dt>
            <dd>
              v{d.version?.version} (via {d.via})
            </dd>
          </div>
          <div>
            <dt>Latest</dt>
            <dd>v{d.latestVersion}</dd>
          </div>
          <div>
            <dt>File default</dt>
            <dd>{d.defaultVersion !== undefined ? `v${d.defaultVersion}` : '—'}</dd>
          </div>
        </dl>
        {status.ok && (
          <p className="ok" role="status">
            {status.ok}
          </p>
        )}
        {status.error && (
          <p className="error" role="alert">
            {status.error}
          </p>
        )}
      </section>

      <section className="panel" aria-labelledby="labels-h">
        <h2 id="labels-h">Labels</h2>
        {d.labels.length === 0 ? (
          <p className="muted">No labels yet: every caller gets the file default.</p>
        ) : (
          <ScrollBox className="table-wrap" label="Labels table">
            <table>
              <thead>
                <tr>
                  <th scope="col">Label</th>
                  <th scope="col">Version</th>
                  <th scope="col">History</th>
                  <th scope="col">Moved by</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {d.labels.map((l) => (
                  <tr key={l.label}>
                    <th scope="row">{l.label}</th>
                    <td>v{l.version}</td>
                    <td>{l.history.map((v) => `v${v}`).join(' → ') || '—'}</td>
                    <td>
                      {l.updatedBy} · {formatDate(l.updatedAt)}
                    </td>
                    <td>
                      <button
                        type="button"
                        className="secondary small"
                        disabled={!canEdit || l.history.length === 0}
                        onClick={() => rollback(l.label)}
                        aria-label={`Roll back ${l.label}`}
                      >
                        Roll back
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollBox>
        )}
        {canEdit && (
          <div className="row end">
            <div className="field">
              <label htmlFor="move-label">Label</label>
              <select id="move-label" value={label} onChange={(e) => setLabel(e.target.value)}>
                {labelChoices.map((l) => (
                  <option key={l} value={l}>
                    {l || '(no label)'}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="move-to">Point it at</label>
              <select id="move-to" value={moveTo} onChange={(e) => setMoveTo(e.target.value)}>
                <option value="">Choose a version</option>
                {versions.map((v) => (
                  <option key={v.version} value={v.version}>
                    v{v.version}
                  </option>
                ))}
              </select>
            </div>
            <button type="button" className="secondary" disabled={!moveTo || !label} onClick={moveLabel}>
              Move label
            </button>
          </div>
        )}
      </section>

      <section className="panel" aria-labelledby="edit-h">
        <h2 id="edit-h">Edit</h2>
        <p className="muted">
          The whole profile as YAML: template, variables, defaults, rubric and few-shot examples. Saving makes
          a new version{session.role === 'member' ? ` published on ${teamLabel}` : ''}.
        </p>
        <label htmlFor="yaml" className="visually-hidden">
          Profile YAML
        </label>
        <textarea
          id="yaml"
          className="code"
          rows={18}
          spellCheck={false}
          value={yaml}
          readOnly={!canEdit}
          onChange={(e) => setYaml(e.target.value)}
        />
        {canEdit && (
          <div className="row end">
            <div className="field grow">
              <label htmlFor="message">Change note</label>
              <input
                id="message"
                value={message}
                placeholder="warmer light"
                onChange={(e) => setMessage(e.target.value)}
              />
            </div>
            <div className="field">
              <label htmlFor="save-label">Publish on</label>
              <select id="save-label" value={label} onChange={(e) => setLabel(e.target.value)}>
                {labelChoices.map((l) => (
                  <option key={l} value={l}>
                    {l || '(no label)'}
                  </option>
                ))}
              </select>
            </div>
            <button type="button" className="primary" onClick={save} disabled={yaml === d.yaml}>
              Save version
            </button>
          </div>
        )}
      </section>

      <PreviewPanel name={name} profileVars={Object.keys(asObject(asObject(d.profile).variables))} />

      <section className="panel" aria-labelledby="versions-h">
        <h2 id="versions-h">Versions</h2>
        <ScrollBox className="table-wrap" label="Versions table">
          <table>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Source</th>
                <th scope="col">Author</th>
                <th scope="col">Note</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr key={v.version}>
                  <th scope="row">v{v.version}</th>
                  <td>{v.source}</td>
                  <td>
                    {v.author}
                    {v.authorTeam ? ` (${v.authorTeam})` : ''}
                  </td>
                  <td>{v.message}</td>
                  <td>{formatDate(v.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
        <div className="row end">
          <div className="field">
            <label htmlFor="diff-from">Diff from</label>
            <select
              id="diff-from"
              value={diff.from}
              onChange={(e) => setDiff((x) => ({ ...x, from: e.target.value }))}
            >
              <option value="">Version</option>
              {versions.map((v) => (
                <option key={v.version} value={v.version}>
                  v{v.version}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="diff-to">to</label>
            <select
              id="diff-to"
              value={diff.to}
              onChange={(e) => setDiff((x) => ({ ...x, to: e.target.value }))}
            >
              <option value="">Version</option>
              {versions.map((v) => (
                <option key={v.version} value={v.version}>
                  v{v.version}
                </option>
              ))}
            </select>
          </div>
          <button type="button" className="secondary" disabled={!diff.from || !diff.to} onClick={showDiff}>
            Show diff
          </button>
        </div>
        {diff.text !== undefined && (
          <ScrollBox label="Diff">
            <pre className="diff">
              {diff.changed === false
                ? 'No differences.'
                : diff.text.split('\n').map((line, i) => (
                    <span
                      // biome-ignore lint/suspicious/noArrayIndexKey: lines of a diff repeat; their position is their identity
                      key={i}
                      className={
                        line.startsWith('+') && !line.startsWith('+++')
                          ? 'add'
                          : line.startsWith('-') && !line.startsWith('---')
                            ? 'del'
                            : undefined
                      }
                    >
                      {line}
                      {'\n'}
                    </span>
                  ))}
            </pre>
          </ScrollBox>
        )}
      </section>

      <section className="panel" aria-labelledby="audit-h">
        <h2 id="audit-h">Audit log</h2>
        <ul className="audit">
          {(history.data?.audit ?? []).map((a) => (
            <li
              key={`${a.createdAt?.seconds}.${a.createdAt?.nanos}:${a.action}:${a.label ?? ''}:${a.version ?? ''}`}
            >
              <strong>{a.action}</strong> {a.label ? `${a.label} ` : ''}
              {a.version !== undefined ? `v${a.version}` : ''}
              {a.previousVersion !== undefined ? ` (was v${a.previousVersion})` : ''} by {a.actor}
              {a.actorTeam ? ` (${a.actorTeam})` : ''} · {formatDate(a.createdAt)}
              {a.message ? ` · ${a.message}` : ''}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

function PreviewPanel({ name, profileVars }: { name: string; profileVars: string[] }) {
  const { clients } = useApp();
  const [vars, setVars] = useState<Record<string, string>>({});
  const [result, setResult] = useState<PreviewApplicationResponse | undefined>();
  const [error, setError] = useState<string | undefined>();
  const run = async () => {
    setError(undefined);
    try {
      const filled = Object.fromEntries(Object.entries(vars).filter(([, v]) => v.trim() !== ''));
      setResult(await clients.apps.previewApplication({ name, vars: filled }));
    } catch (e) {
      setResult(undefined);
      setError(errorText(e));
    }
  };
  return (
    <section className="panel" aria-labelledby="preview-h">
      <h2 id="preview-h">Preview</h2>
      <form
        className="row end wrap"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        {profileVars.map((v) => (
          <div className="field" key={v}>
            <label htmlFor={`pv-${v}`}>{v}</label>
            <input
              id={`pv-${v}`}
              value={vars[v] ?? ''}
              onChange={(e) => setVars((x) => ({ ...x, [v]: e.target.value }))}
            />
          </div>
        ))}
        <button type="submit" className="secondary">
          Preview
        </button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {result && (
        <div className="rendered">
          <p className="muted">
            v{result.appVersion} via {result.via}, model {result.routedModel ?? result.model}
          </p>
          <p className="prompt-text">{result.prompt}</p>
          {result.rubric.length > 0 && (
            <>
              <h3>Rubric</h3>
              <ul>
                {result.rubric.map((q) => (
                  <li key={q.id}>
                    {q.question}{' '}
                    <span className="muted">
                      (expect {q.expected}
                      {q.critical ? ', critical' : ''})
                    </span>
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </section>
  );
}
