import { useState } from 'react';
import type { Image } from '../../../src/gen/pixel/v1/images_pb.ts';
import { Experiments } from '../components/Experiments.tsx';
import { formatCost, formatDate, formatValue } from '../format.ts';
import { useApp, useLoad, useTitle } from '../hooks.ts';
import { Link, navigate, useLocation } from '../router.tsx';

export function Compare() {
  useTitle('Compare');
  const { clients } = useApp();
  const location = useLocation();
  const a = location.searchParams.get('a') ?? '';
  const b = location.searchParams.get('b') ?? '';
  // `?cells=N`: grid cells per page (1–1000, default 300).
  const cells = Number(location.searchParams.get('cells'));
  const gridPage = Number.isInteger(cells) && cells >= 1 && cells <= 1000 ? cells : undefined;
  const [draft, setDraft] = useState({ a, b });
  const [split, setSplit] = useState(50);
  const left = useLoad(
    (signal) => (a ? clients.images.getImage({ id: a }, { signal }) : Promise.resolve(undefined)),
    [clients, a],
  );
  const right = useLoad(
    (signal) => (b ? clients.images.getImage({ id: b }, { signal }) : Promise.resolve(undefined)),
    [clients, b],
  );
  const recent = useLoad((signal) => clients.images.listImages({ pageSize: 12 }, { signal }), [clients]);

  return (
    <div className="page">
      <header className="page-head">
        <h1>Compare</h1>
        <p className="muted">
          Any two images side by side and with an A/B slider, and the candidates of an experiment.
        </p>
      </header>
      <form
        className="panel row end wrap"
        aria-label="Images to compare"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(
            `/compare?a=${encodeURIComponent(draft.a.trim())}&b=${encodeURIComponent(draft.b.trim())}`,
          );
        }}
      >
        {(['a', 'b'] as const).map((side) => (
          <div className="field grow" key={side}>
            <label htmlFor={`cmp-${side}`}>Image {side.toUpperCase()}</label>
            <input
              id={`cmp-${side}`}
              list="recent-ids"
              value={draft[side]}
              placeholder="img_…"
              spellCheck={false}
              onChange={(e) => setDraft((d) => ({ ...d, [side]: e.target.value }))}
            />
          </div>
        ))}
        <datalist id="recent-ids">
          {recent.data?.images.map((i) => (
            <option key={i.id} value={i.id}>
              {i.prompt.slice(0, 60)}
            </option>
          ))}
        </datalist>
        <button type="submit" className="primary">
          Compare
        </button>
      </form>
      {(left.error || right.error) && (
        <p className="error" role="alert">
          {left.error ?? right.error}
        </p>
      )}
      {left.data && right.data && (
        <>
          <div className="compare-pair">
            <Side label="A" image={left.data} />
            <Side label="B" image={right.data} />
          </div>
          <section className="panel" aria-labelledby="slider-h">
            <h2 id="slider-h">A/B slider</h2>
            <div className="ab" style={{ aspectRatio: `${left.data.width} / ${left.data.height}` }}>
              <img src={right.data.url} alt={`B: ${right.data.prompt}`} />
              <img
                src={left.data.url}
                alt={`A: ${left.data.prompt}`}
                className="ab-top"
                style={{ clipPath: `inset(0 ${100 - split}% 0 0)` }}
              />
              <div className="ab-line" style={{ left: `${split}%` }} aria-hidden="true" />
            </div>
            <label htmlFor="ab-split" className="ab-label">
              Show A up to {split}% of the width
            </label>
            <input
              id="ab-split"
              type="range"
              min={0}
              max={100}
              value={split}
              onChange={(e) => setSplit(Number(e.target.value))}
            />
          </section>
        </>
      )}
      {(!a || !b) && <p className="muted">Enter two image IDs (the list suggests your latest images).</p>}
      <Experiments
        {...(gridPage !== undefined && { gridPage })}
        onPick={(side, id) => {
          const next = { a, b, [side]: id };
          setDraft(next);
          navigate(`/compare?a=${encodeURIComponent(next.a)}&b=${encodeURIComponent(next.b)}`);
        }}
      />
    </div>
  );
}

function Side({ label, image }: { label: string; image: Image }) {
  const p = image.params ?? {};
  return (
    <figure className="panel side">
      <img src={image.url} alt={`${label}: ${image.prompt}`} width={image.width} height={image.height} />
      <figcaption>
        <h2>
          {label}: <Link to={`/images/${image.id}`}>{image.id}</Link>
        </h2>
        <p className="prompt-text">{image.prompt}</p>
        <dl className="facts">
          <div>
            <dt>Route</dt>
            <dd>{image.route}</dd>
          </div>
          <div>
            <dt>Seed</dt>
            <dd>{image.seed ?? '—'}</dd>
          </div>
          <div>
            <dt>Size</dt>
            <dd>
              {image.width}×{image.height}
            </dd>
          </div>
          <div>
            <dt>Style</dt>
            <dd>{formatValue(p.style)}</dd>
          </div>
          <div>
            <dt>Cost</dt>
            <dd>{formatCost(image.costUsd)}</dd>
          </div>
          <div>
            <dt>Latency</dt>
            <dd>{image.latencyMs} ms</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{formatDate(image.createdAt)}</dd>
          </div>
        </dl>
      </figcaption>
    </figure>
  );
}
