import { useState } from 'react';
import type { Image } from '../../../src/gen/pixel/v1/images_pb.ts';
import { errorText } from '../api.ts';
import { CopyButton } from '../components/Copy.tsx';
import { ImageReviews } from '../components/ImageReviews.tsx';
import { JsonBlock } from '../components/Json.tsx';
import { JudgeRecord } from '../components/JudgeRecord.tsx';
import { ReportTable } from '../components/Report.tsx';
import { formatCost, formatDate } from '../format.ts';
import { useApp, useLoad, useTitle } from '../hooks.ts';
import { formOf, formToQuery, requestOf } from '../request.ts';
import { Link, navigate } from '../router.tsx';

export function ImageDetail({ id }: { id: string }) {
  useTitle(id);
  const { clients, session } = useApp();
  const image = useLoad((signal) => clients.images.getImage({ id }, { signal }), [clients, id]);
  const children = useLoad(
    (signal) => clients.images.listImages({ parentId: id, pageSize: 50 }, { signal }),
    [clients, id],
  );
  const [busy, setBusy] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [regenerated, setRegenerated] = useState<Image[]>([]);

  if (image.error)
    return (
      <div className="page">
        <h1>Image {id}</h1>
        <p className="error" role="alert">
          {image.error}
        </p>
        <Link to="/history">Back to the history</Link>
      </div>
    );
  const img = image.data;
  if (!img)
    return (
      <div className="page">
        <h1>Image {id}</h1>
        <p className="muted">Loading…</p>
      </div>
    );

  const pageUrl = `${window.location.origin}/images/${img.id}`;
  const canWrite = session.role !== 'viewer';

  const regenerate = async () => {
    setBusy('Regenerating with the same seed…');
    setError(undefined);
    try {
      const result = await clients.images.generate({ ...requestOf({ ...formOf(img), n: '1' }) });
      setRegenerated((r) => [...result.images, ...r]);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(undefined);
    }
  };

  const accept = async () => {
    try {
      await clients.images.acceptImage({ id: img.id });
      image.reload();
    } catch (e) {
      setError(errorText(e));
    }
  };

  const facts: [string, string][] = [
    ['Status', img.status + (img.acceptedAt ? `, accepted ${formatDate(img.acceptedAt)}` : '')],
    ['Model requested', img.model],
    ['Route taken', `${img.route} (${img.provider})`],
    ['Seed', img.seed === undefined ? '—' : String(img.seed)],
    ['Size', `${img.width}×${img.height} ${img.mediaType}, ${(Number(img.byteSize) / 1024).toFixed(1)} KB`],
    ['Application', img.application ? `${img.application} v${img.appVersion ?? '?'}` : '—'],
    ['Team', img.team],
    ['Cost estimate', formatCost(img.costUsd)],
    ['Latency', `${img.latencyMs} ms`],
    ['Created', formatDate(img.createdAt)],
    ['SHA-256', img.sha256],
  ];

  return (
    <div className="page">
      <header className="page-head">
        <p className="crumbs">
          <Link to="/history">History</Link> / <span>{img.id}</span>
        </p>
        <h1 className="id-title">{img.id}</h1>
      </header>
      <div className="detail">
        <figure className="panel detail-image">
          <img src={img.url} alt={img.prompt} width={img.width} height={img.height} />
          <figcaption className="actions wrap">
            <CopyButton text={pageUrl} label="Copy URL" />
            <CopyButton text={img.id} label="Copy ID" />
            <a className="button secondary small" href={img.url} download>
              Download
            </a>
            <button
              type="button"
              className="small"
              onClick={regenerate}
              disabled={!canWrite || busy !== undefined}
            >
              Regenerate (same seed)
            </button>
            <button
              type="button"
              className="secondary small"
              onClick={() => navigate(`/?${formToQuery(formOf(img))}`)}
            >
              Reuse settings
            </button>
            <button
              type="button"
              className="secondary small"
              disabled={!canWrite || img.acceptedAt !== undefined}
              onClick={accept}
            >
              {img.acceptedAt ? 'Accepted' : 'Accept'}
            </button>
            <Link className="button secondary small" to={`/compare?a=${img.id}`}>
              Compare…
            </Link>
          </figcaption>
        </figure>
        <div className="detail-facts">
          <section className="panel" aria-labelledby="prompt-h">
            <h2 id="prompt-h">Prompt</h2>
            <p className="prompt-text">{img.prompt}</p>
            {img.negativePrompt && (
              <p>
                <strong>Negative prompt:</strong> {img.negativePrompt}
              </p>
            )}
          </section>
          <section className="panel" aria-labelledby="facts-h">
            <h2 id="facts-h">Lineage</h2>
            <dl className="facts">
              {facts.map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd>{v}</dd>
                </div>
              ))}
              <div>
                <dt>Parent</dt>
                <dd>{img.parentId ? <Link to={`/images/${img.parentId}`}>{img.parentId}</Link> : 'none'}</dd>
              </div>
              <div>
                <dt>Children</dt>
                <dd>
                  {children.data && children.data.images.length > 0
                    ? children.data.images.map((c) => (
                        <Link key={c.id} to={`/images/${c.id}`} className="chip">
                          {c.id}
                        </Link>
                      ))
                    : 'none'}
                </dd>
              </div>
            </dl>
          </section>
          {busy && <p aria-live="polite">{busy}</p>}
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          {regenerated.length > 0 && (
            <section className="panel" aria-labelledby="regen-h">
              <h2 id="regen-h">Regenerated</h2>
              <ul className="chips">
                {regenerated.map((r) => (
                  <li key={r.id}>
                    <Link to={`/images/${r.id}`}>{r.id}</Link> (seed {r.seed ?? '—'})
                  </li>
                ))}
              </ul>
            </section>
          )}
          <section className="panel" aria-labelledby="report-h">
            <h2 id="report-h">Translation report</h2>
            <ReportTable report={img.report} />
          </section>
          <section className="panel" aria-labelledby="judge-h">
            <h2 id="judge-h">Quality gate</h2>
            {img.judge ? (
              <JudgeRecord judge={img.judge} />
            ) : (
              <p className="muted">No quality gate judged this image.</p>
            )}
          </section>
          <section className="panel" aria-labelledby="reviews-h">
            <h2 id="reviews-h">Review verdicts</h2>
            <ImageReviews imageId={img.id} />
          </section>
          <JsonBlock title="Parameters" value={img.params} open />
          <JsonBlock title="Native request sent to the provider" value={img.nativeRequest} />
        </div>
      </div>
    </div>
  );
}
