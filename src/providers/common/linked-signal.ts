/** A signal that aborts when any of its sources does, until it is released. */
export interface LinkedSignal {
  signal: AbortSignal;
  /** Detaches from the sources: call it once the work the signal guards is over. */
  release(): void;
}

/**
 * Like `AbortSignal.any`, but with an explicit end. AbortSignal.any ties the combined signal to its
 * sources through weak references that only a full garbage collection clears, so one made per request
 * lives on into the old generation; at a few hundred requests a second that drove a major collection
 * every few dozen requests (bench/service.bench.ts). Here the listeners are removed when the work ends.
 */
export function linkSignals(sources: ReadonlyArray<AbortSignal | undefined>): LinkedSignal {
  const controller = new AbortController();
  const attached: AbortSignal[] = [];
  const onAbort = (event: Event) => {
    release();
    controller.abort((event.target as AbortSignal).reason);
  };
  const release = () => {
    for (const source of attached.splice(0)) source.removeEventListener('abort', onAbort);
  };
  for (const source of sources) {
    if (!source) continue;
    if (source.aborted) {
      release();
      controller.abort(source.reason);
      break;
    }
    source.addEventListener('abort', onAbort, { once: true });
    attached.push(source);
  }
  return { signal: controller.signal, release };
}
