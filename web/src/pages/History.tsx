import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { type FormEvent, useEffect, useState } from 'react';
import type { Image } from '../../../src/gen/pixel/v1/images_pb.ts';
import { errorText } from '../api.ts';
import { formatDate } from '../format.ts';
import { useApp, useLoad, useTitle } from '../hooks.ts';
import { Link, navigate, useLocation } from '../router.tsx';

const FILTERS = ['q', 'app', 'model', 'team', 'status', 'accepted', 'from', 'to'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

function filtersOf(search: URLSearchParams): Filters {
  return Object.fromEntries(FILTERS.map((k) => [k, search.get(k) ?? ''])) as Filters;
}

const PAGE_SIZE = 24;

export function History() {
  useTitle('History');
  const { clients, session } = useApp();
  const location = useLocation();
  const applied = filtersOf(location.searchParams);
  const [draft, setDraft] = useState<Filters>(applied);
  const [jumpId, setJumpId] = useState('');
  const [more, setMore] = useState<{ images: Image[]; token: string } | undefined>();
  const [moreError, setMoreError] = useState<string | undefined>();
  const key = location.search;
  useEffect(() => {
    setDraft(filtersOf(new URLSearchParams(key)));
    setMore(undefined);
  }, [key]);

  const apps = useLoad((signal) => clients.apps.listApplications({}, { signal }), [clients]);
  const request = (pageToken: string) => ({
    pageSize: PAGE_SIZE,
    pageToken,
    ...(applied.q && { promptContains: applied.q }),
    ...(applied.app && { application: applied.app }),
    ...(applied.model && { model: applied.model }),
    ...(applied.team && { team: applied.team }),
    ...(applied.status && { status: applied.status }),
    ...(applied.accepted && { accepted: applied.accepted === 'yes' }),
    ...(applied.from && { createdAfter: timestampFromDate(new Date(`${applied.from}T00:00:00`)) }),
    ...(applied.to && {
      createdBefore: timestampFromDate(new Date(new Date(`${applied.to}T00:00:00`).getTime() + 86_400_000)),
    }),
  });
  const page = useLoad((signal) => clients.images.listImages(request(''), { signal }), [clients, key]);
  const images = [...(page.data?.images ?? []), ...(more?.images ?? [])];
  const nextToken = more ? more.token : (page.data?.nextPageToken ?? '');

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const search = new URLSearchParams();
    for (const k of FILTERS) if (draft[k].trim() !== '') search.set(k, draft[k].trim());
    const qs = search.toString();
    navigate(`/history${qs ? `?${qs}` : ''}`);
  };

  const loadMore = async () => {
    try {
      const r = await clients.images.listImages(request(nextToken));
      setMore({ images: [...(more?.images ?? []), ...r.images], token: r.nextPageToken });
    } catch (e) {
      setMoreError(errorText(e));
    }
  };

  const set = (k: keyof Filters) => (e: { target: { value: string } }) =>
    setDraft((d) => ({ ...d, [k]: e.target.value }));

  return (
    <div className="page">
      <header className="page-head">
        <h1>History</h1>
        <p className="muted">
          Every image {session.role === 'admin' ? 'of every team' : `of team ${session.team}`}, newest first,
          with every parameter it was made with.
        </p>
      </header>

      <form
        className="panel open-id"
        aria-label="Open an image by ID"
        onSubmit={(e) => {
          e.preventDefault();
          if (jumpId.trim()) navigate(`/images/${encodeURIComponent(jumpId.trim())}`);
        }}
      >
        <div className="field grow">
          <label htmlFor="jump-id">Image ID</label>
          <input
            id="jump-id"
            value={jumpId}
            placeholder="img_…"
            spellCheck={false}
            onChange={(e) => setJumpId(e.target.value)}
          />
        </div>
        <button type="submit" className="primary">
          Open
        </button>
      </form>

      <form className="panel filters" aria-label="Search and filter" onSubmit={submit}>
        <div className="field grow">
          <label htmlFor="f-q">Prompt contains</label>
          <input id="f-q" type="search" value={draft.q} onChange={set('q')} placeholder="steak" />
        </div>
        <div className="field">
          <label htmlFor="f-app">Application</label>
          <select id="f-app" value={draft.app} onChange={set('app')}>
            <option value="">Any</option>
            {apps.data?.applications.map((a) => (
              <option key={a.name} value={a.name}>
                {a.title || a.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-model">Model</label>
          <input id="f-model" value={draft.model} onChange={set('model')} placeholder="pixel/sketch" />
        </div>
        {session.role === 'admin' && (
          <div className="field">
            <label htmlFor="f-team">Team</label>
            <input id="f-team" value={draft.team} onChange={set('team')} placeholder="any" />
          </div>
        )}
        <div className="field">
          <label htmlFor="f-status">Status</label>
          <select id="f-status" value={draft.status} onChange={set('status')}>
            <option value="">Stored or rejected</option>
            <option value="stored">Stored</option>
            <option value="rejected">Rejected</option>
            <option value="deleted">Deleted</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-accepted">Accepted</label>
          <select id="f-accepted" value={draft.accepted} onChange={set('accepted')}>
            <option value="">Either</option>
            <option value="yes">Accepted</option>
            <option value="no">Not accepted</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-from">From</label>
          <input id="f-from" type="date" value={draft.from} onChange={set('from')} />
        </div>
        <div className="field">
          <label htmlFor="f-to">To</label>
          <input id="f-to" type="date" value={draft.to} onChange={set('to')} />
        </div>
        <div className="actions">
          <button type="submit" className="primary">
            Search
          </button>
          <button type="button" className="secondary" onClick={() => navigate('/history')}>
            Clear
          </button>
        </div>
      </form>

      {page.error && (
        <p className="error" role="alert">
          {page.error}
        </p>
      )}
      <p className="muted" aria-live="polite">
        {page.loading
          ? 'Loading…'
          : `${images.length}${nextToken ? '+' : ''} image${images.length === 1 ? '' : 's'}`}
      </p>
      <ul className="grid gallery" aria-label="Images">
        {images.map((image) => (
          <li key={image.id} className={`card${image.acceptedAt ? ' accepted' : ''}`}>
            <Link to={`/images/${image.id}`} className="thumb" aria-label={`Open ${image.id}`}>
              <img
                src={image.url}
                alt={image.prompt.slice(0, 100)}
                width={image.width}
                height={image.height}
                loading="lazy"
              />
            </Link>
            <div className="card-body">
              <p className="card-prompt" title={image.prompt}>
                {image.prompt}
              </p>
              <div className="card-meta">
                <span>{image.route}</span>
                <span>{formatDate(image.createdAt)}</span>
                {image.acceptedAt && <span className="badge badge-native">accepted</span>}
                {image.status !== 'stored' && <span className="badge badge-dropped">{image.status}</span>}
              </div>
              <code className="id">{image.id}</code>
            </div>
          </li>
        ))}
      </ul>
      {moreError && (
        <p className="error" role="alert">
          {moreError}
        </p>
      )}
      {nextToken && (
        <button type="button" className="secondary" onClick={loadMore}>
          Load more
        </button>
      )}
    </div>
  );
}
