import { createContext, useContext, useEffect, useState } from 'react';
import { type Clients, errorText, isAborted, type Session } from './api.ts';

export interface AppContext {
  session: Session;
  clients: Clients;
}

export const Ctx = createContext<AppContext | undefined>(undefined);

export function useApp(): AppContext {
  const value = useContext(Ctx);
  if (!value) throw new Error('useApp outside the signed-in app');
  return value;
}

export interface Loaded<T> {
  data?: T;
  error?: string;
  /** The error itself (to tell an absent service from a failure). */
  errorValue?: unknown;
  loading: boolean;
  reload(): void;
}

/** Runs `load` when `deps` change (the previous run is aborted) and on reload(). */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; errorValue?: unknown; loading: boolean }>({
    loading: true,
  });
  const [tick, setTick] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names the dependencies
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true, error: undefined, errorValue: undefined }));
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ data, loading: false });
      },
      (error: unknown) => {
        if (!controller.signal.aborted && !isAborted(error))
          setState({ error: errorText(error), errorValue: error, loading: false });
      },
    );
    return () => controller.abort();
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** Sets the document title for the page. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Pixel`;
  }, [title]);
}
