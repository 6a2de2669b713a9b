import { type FormEvent, useState } from 'react';
import { fetchSession, type Session } from '../api.ts';
import { useTitle } from '../hooks.ts';

export function SignIn({ onSignedIn, notice }: { onSignedIn: (session: Session) => void; notice?: string }) {
  useTitle('Sign in');
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | undefined>(notice);
  const [busy, setBusy] = useState(false);

  const signIn = async (withKey: string | undefined) => {
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await fetchSession(withKey));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin" id="main">
      <div className="panel signin-card">
        <div className="brand big" aria-hidden="true">
          <span className="logo" />
          Pixel
        </div>
        <h1>Sign in</h1>
        <p className="muted">Use your Pixel API key. It stays in this browser tab only.</p>
        <form
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            if (key.trim()) void signIn(key.trim());
          }}
        >
          <div className="field">
            <label htmlFor="api-key">API key</label>
            <input
              id="api-key"
              type="password"
              autoComplete="off"
              spellCheck={false}
              placeholder="pxl_…"
              value={key}
              onChange={(e) => setKey(e.target.value)}
            />
          </div>
          <button type="submit" className="primary wide" disabled={busy || key.trim() === ''}>
            Sign in with key
          </button>
        </form>
        <div className="divider">
          <span>or</span>
        </div>
        <button type="button" className="secondary wide" disabled={busy} onClick={() => signIn(undefined)}>
          Continue as the local user (no key)
        </button>
        <p className="muted small-text">
          Without a key the server treats you as a member of team <code>local</code>, only when it runs on
          this machine without keys required.
        </p>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </div>
    </main>
  );
}
