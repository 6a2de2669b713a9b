import { describe, expect, it } from 'vitest';
import { startFetchLoop } from './fetch-loop.ts';

/** A queue of numbered jobs, handed out as a worker fetches them. */
function queue(count: number) {
  const waiting = Array.from({ length: count }, (_, i) => i);
  const asked: number[] = [];
  return {
    asked,
    get left() {
      return waiting.length;
    },
    fetch: async (max: number) => {
      asked.push(max);
      return waiting.splice(0, max);
    },
  };
}

describe('startFetchLoop', () => {
  it('runs every job, never more than `concurrency` at once, fetching only what it has room for', async () => {
    const q = queue(25);
    let running = 0;
    let most = 0;
    const done: number[] = [];
    const allDone = Promise.withResolvers<void>();
    const loop = startFetchLoop({
      concurrency: 4,
      fetch: q.fetch,
      run: async (job) => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setImmediate(resolve));
        running--;
        done.push(job);
        if (done.length === 25) allDone.resolve();
      },
      idleMs: () => 0,
    });
    await allDone.promise;
    await loop.stop(1_000, () => {});
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(most).toBe(4);
    expect(Math.max(...q.asked)).toBeLessThanOrEqual(4);
    expect(q.left).toBe(0);
  });

  it('a fetch that fails counts as an empty queue, and a job that throws does not stop the loop', async () => {
    let fetches = 0;
    const ran: number[] = [];
    const second = Promise.withResolvers<void>();
    const loop = startFetchLoop({
      concurrency: 2,
      fetch: async () => {
        fetches++;
        if (fetches === 1) throw new Error('the database went away');
        if (fetches === 2) return [1];
        if (fetches === 3) return [2];
        return [];
      },
      run: async (job) => {
        ran.push(job);
        if (job === 1) throw new Error('a bug in one job');
        second.resolve();
      },
      idleMs: () => 0,
    });
    await second.promise;
    await loop.stop(1_000, () => {});
    expect(ran).toEqual([1, 2]);
  });

  it('stop waits for running jobs through the grace, then calls afterGrace and waits for their end', async () => {
    const started = Promise.withResolvers<void>();
    const aborted = new AbortController();
    let finished = false;
    const q = queue(1);
    const loop = startFetchLoop({
      concurrency: 2,
      fetch: q.fetch,
      run: async () => {
        started.resolve();
        // A job that only ends when aborted.
        await new Promise<void>((resolve) => aborted.signal.addEventListener('abort', () => resolve()));
        finished = true;
      },
      idleMs: () => 0,
    });
    await started.promise;
    let graceOver = false;
    await loop.stop(0, () => {
      graceOver = true;
      aborted.abort();
    });
    expect(graceOver).toBe(true);
    expect(finished).toBe(true);
  });

  it('stop starts the grace at once even when every slot is taken by a job that does not end', async () => {
    const q = queue(3);
    const aborted = new AbortController();
    let started = 0;
    const allStarted = Promise.withResolvers<void>();
    const loop = startFetchLoop({
      concurrency: 2,
      fetch: q.fetch,
      run: async () => {
        if (++started === 2) allStarted.resolve();
        await new Promise<void>((resolve) => aborted.signal.addEventListener('abort', () => resolve()));
      },
      idleMs: () => 60_000,
    });
    await allStarted.promise;
    // Both slots are held by jobs that only end when aborted: stop must still reach afterGrace.
    await loop.stop(0, () => aborted.abort());
    expect(started).toBe(2);
    expect(q.left).toBe(1);
  });

  it('stop wakes a loop sleeping on an empty queue', async () => {
    const q = queue(0);
    const loop = startFetchLoop({
      concurrency: 1,
      fetch: q.fetch,
      run: async () => {},
      idleMs: () => 3_600_000,
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(q.asked.length).toBeGreaterThan(0);
    await loop.stop(0, () => {});
  });
});
