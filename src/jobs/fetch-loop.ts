/**
 * A worker's fetch loop over one queue: fetches as many jobs as it has room for (up to `concurrency` running
 * at once), runs each without waiting for it, and sleeps `idleMs` when the queue gave nothing. `fetch`
 * failing (the database away) counts as an empty queue; `run` must settle its job itself and not throw.
 */
export interface FetchLoopOptions<T> {
  concurrency: number;
  fetch(max: number): Promise<T[]>;
  run(job: T): Promise<void>;
  /** The wait before the next fetch of an empty queue, given how many jobs are still running. */
  idleMs(running: number): number;
}

export interface FetchLoop {
  /**
   * Stops fetching, lets the running jobs finish for up to `graceMs`, then calls `afterGrace` (to abort
   * what still runs) and awaits their end.
   */
  stop(graceMs: number, afterGrace: () => void): Promise<void>;
}

export function startFetchLoop<T>(options: FetchLoopOptions<T>): FetchLoop {
  const running = new Set<Promise<void>>();
  let stopping = false;
  // Resolved by stop(): ends a wait for room or an idle sleep at once.
  const stopped = Promise.withResolvers<void>();

  const loop = async () => {
    // Bounded by `stopping`: each pass either starts jobs, waits for one to finish, or sleeps.
    while (!stopping) {
      const free = options.concurrency - running.size;
      if (free <= 0) {
        await Promise.race([...running, stopped.promise]);
        continue;
      }
      const jobs = await options.fetch(free).catch((): T[] => []);
      for (const job of jobs) {
        const p: Promise<void> = options
          .run(job)
          .catch(() => {})
          .finally(() => running.delete(p));
        running.add(p);
      }
      if (jobs.length === 0 && !stopping) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, options.idleMs(running.size));
          }),
          stopped.promise,
        ]);
        clearTimeout(timer);
      }
    }
  };
  const looping = loop();

  return {
    async stop(graceMs, afterGrace) {
      stopping = true;
      stopped.resolve();
      await looping;
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
        timer.unref();
      });
      await Promise.race([Promise.allSettled([...running]), grace]);
      clearTimeout(timer);
      afterGrace();
      await Promise.allSettled([...running]);
    },
  };
}
