import { PixelError } from '../../protocol/errors.ts';
import { cancelled } from '../common/http.ts';

interface Waiter {
  grant: () => void;
  reject: (error: unknown) => void;
}

/**
 * A counting semaphore with a bounded FIFO queue. Hand-written: it is a dozen lines, and it must
 * reject (not grow) when the queue is full and drop waiters whose caller gave up.
 */
export class Semaphore {
  private readonly limit: number;
  private readonly maxQueue: number;
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(limit: number, maxQueue: number) {
    this.limit = Math.max(1, limit);
    this.maxQueue = Math.max(0, maxQueue);
  }

  get inFlight(): number {
    return this.active;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Resolves with a release function once a slot is free. */
  acquire(signal?: AbortSignal, label = 'provider'): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(cancelled(signal));
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.queue.length >= this.maxQueue) {
      return Promise.reject(
        new PixelError({
          code: 'resource_exhausted',
          reason: 'queue_full',
          retryable: true,
          provider: label,
          message: `${label}: ${this.active} requests in flight and ${this.queue.length} waiting; try again later`,
        }),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
        reject,
      };
      const onAbort = () => {
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
        reject(cancelled(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      // The slot passes straight to the next waiter, so `active` stays the same.
      if (next) next.grant();
      else this.active--;
    };
  }
}
