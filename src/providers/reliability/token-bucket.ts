import type { Clock } from './clock.ts';

/**
 * Requests-per-minute limiter: `capacity` tokens, refilled continuously at rpm/60000 per ms.
 * Callers that find it empty sleep (on the injected clock) until their token is due; tokens are
 * reserved in call order so waiting callers do not starve each other.
 */
export class TokenBucket {
  private readonly perMs: number;
  private readonly capacity: number;
  private tokens: number;
  private updated: number;
  private readonly clock: Clock;

  constructor(rpm: number, capacity: number, clock: Clock) {
    this.perMs = rpm / 60_000;
    this.capacity = Math.max(1, capacity);
    this.tokens = this.capacity;
    this.clock = clock;
    this.updated = clock.now();
  }

  /** Takes one token, waiting for it when none is left. */
  async take(signal?: AbortSignal): Promise<void> {
    const now = this.clock.now();
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.updated) * this.perMs);
    this.updated = now;
    // Reserve the token now (may go negative); the debt is how long this caller must wait.
    this.tokens -= 1;
    if (this.tokens >= 0) return;
    const waitMs = Math.ceil(-this.tokens / this.perMs);
    try {
      await this.clock.sleep(waitMs, signal);
    } catch (error) {
      this.tokens += 1; // give the reservation back
      throw error;
    }
  }
}
