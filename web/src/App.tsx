import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { clientsFor, fetchSession, type Session, savedSignIn, saveSignIn } from './api.ts';
import { Ctx } from './hooks.ts';
import { Playground } from './pages/Playground.tsx';
import { SignIn } from './pages/SignIn.tsx';
import { Link, useLocation } from './router.tsx';

// The playground is in the first load; every other page is fetched when it is first opened.
const Applications = lazy(() =>
  import('./pages/Applications.tsx').then((m) => ({ default: m.Applications })),
);
const Compare = lazy(() => import('./pages/Compare.tsx').then((m) => ({ default: m.Compare })));
const Finetunes = lazy(() => import('./pages/Finetunes.tsx').then((m) => ({ default: m.Finetunes })));
const History = lazy(() => import('./pages/History.tsx').then((m) => ({ default: m.History })));
const ImageDetail = lazy(() => import('./pages/ImageDetail.tsx').then((m) => ({ default: m.ImageDetail })));
const Review = lazy(() => import('./pages/Review.tsx').then((m) => ({ default: m.Review })));
const Usage = lazy(() => import('./pages/Usage.tsx').then((m) => ({ default: m.Usage })));

const NAV = [
  { to: '/', label: 'Playground', match: (p: string) => p === '/' },
  {
    to: '/history',
    label: 'History',
    match: (p: string) => p.startsWith('/history') || p.startsWith('/images/'),
  },
  { to: '/compare', label: 'Compare', match: (p: string) => p.startsWith('/compare') },
  { to: '/review', label: 'Review', match: (p: string) => p.startsWith('/review') },
  { to: '/apps', label: 'Applications', match: (p: string) => p.startsWith('/apps') },
  { to: '/fine-tunes', label: 'Fine-tunes', match: (p: string) => p.startsWith('/fine-tunes') },
  { to: '/usage', label: 'Usage', match: (p: string) => p.startsWith('/usage') },
];

function Page({ path }: { path: string }) {
  if (path === '/') return <Playground />;
  if (path === '/history') return <History />;
  const image = /^\/images\/([^/]+)$/.exec(path);
  if (image) return <ImageDetail id={decodeURIComponent(image[1]!)} />;
  if (path === '/compare') return <Compare />;
  if (path === '/apps') return <Applications />;
  const app = /^\/apps\/([^/]+)$/.exec(path);
  if (app) return <Applications name={decodeURIComponent(app[1]!)} />;
  if (path === '/review') return <Review />;
  if (path === '/fine-tunes') return <Finetunes />;
  if (path === '/usage') return <Usage />;
  return (
    <div className="page">
      <h1>Not found</h1>
      <p>
        There is no page at <code>{path}</code>. <Link to="/">Go to the playground</Link>.
      </p>
    </div>
  );
}

export function App() {
  const location = useLocation();
  // A tab that signed in before shows its pages at once; the server confirms the key meanwhile.
  const [session, setSession] = useState<Session | undefined>(() => savedSignIn());
  const [notice, setNotice] = useState<string | undefined>();

  useEffect(() => {
    const saved = savedSignIn();
    if (!saved) return;
    fetchSession(saved.key).then(
      (s) => {
        if (s.team !== saved.team || s.role !== saved.role || s.anonymous !== saved.anonymous) {
          saveSignIn(s);
          setSession(s);
        }
      },
      (e: unknown) => {
        saveSignIn(undefined);
        setSession(undefined);
        setNotice(e instanceof Error ? e.message : String(e));
      },
    );
  }, []);

  const clients = useMemo(() => (session ? clientsFor(session.key) : undefined), [session]);

  if (!session || !clients)
    return (
      <SignIn
        notice={notice}
        onSignedIn={(s) => {
          saveSignIn(s);
          setSession(s);
        }}
      />
    );

  const path = location.pathname;
  return (
    <Ctx.Provider value={{ session, clients }}>
      <a href="#main" className="skip">
        Skip to content
      </a>
      <div className="shell">
        <header className="topbar">
          <Link to="/" className="brand" aria-label="Pixel home">
            <span className="logo" aria-hidden="true" />
            Pixel
          </Link>
          <nav aria-label="Main" className="nav">
            <ul>
              {NAV.map((n) => (
                <li key={n.to}>
                  <Link to={n.to} aria-current={n.match(path) ? 'page' : undefined}>
                    {n.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          <div className="who">
            <span className="muted small-text" data-testid="who">
              {session.anonymous ? 'local user' : 'key'} · team {session.team} · {session.role}
            </span>
            <button
              type="button"
              className="secondary small"
              onClick={() => {
                saveSignIn(undefined);
                setSession(undefined);
              }}
            >
              Sign out
            </button>
          </div>
        </header>
        <main id="main" tabIndex={-1}>
          <Suspense fallback={<p className="muted page">Loading…</p>}>
            <Page path={path} />
          </Suspense>
        </main>
      </div>
    </Ctx.Provider>
  );
}
