import { cancelled } from '../common/http.ts';
import type { Clock } from './clock.ts';

interface Timer {
  at: number;
  fire: () => void;
}

/**
 * A clock for tests: time moves only when someone sleeps (the sleep advances it at once) or calls
 * `advance`. Every sleep is recorded, so a test can assert the exact waits the layer chose.
 */
export class ManualClock implements Clock {
  private current: number;
  private timers: Timer[] = [];
  readonly sleeps: number[] = [];
  randomValue: number;

  constructor(start = 1_000_000, randomValue = 0.5) {
    this.current = start;
    this.randomValue = randomValue;
  }

  now(): number {
    return this.current;
  }

  random(): number {
    return this.randomValue;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) throw cancelled(signal);
    // Yield first so concurrent work interleaves as it would with real time.
    await Promise.resolve();
    this.advance(ms);
    if (signal?.aborted) throw cancelled(signal);
  }

  advance(ms: number): void {
    this.current += Math.max(0, ms);
    const due = this.timers.filter((t) => t.at <= this.current);
    this.timers = this.timers.filter((t) => t.at > this.current);
    for (const timer of due) timer.fire();
  }

  timeout(ms: number): { signal: AbortSignal; clear(): void } {
    const controller = new AbortController();
    const timer: Timer = {
      at: this.current + ms,
      fire: () => controller.abort(new DOMException('The operation timed out', 'TimeoutError')),
    };
    this.timers.push(timer);
    return {
      signal: controller.signal,
      clear: () => {
        this.timers = this.timers.filter((t) => t !== timer);
      },
    };
  }

  /** Timers set and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.timers.length;
  }
}
