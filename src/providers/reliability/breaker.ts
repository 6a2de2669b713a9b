import { PixelError } from '../../protocol/errors.ts';
import type { Clock } from './clock.ts';
import type { BreakerPolicy } from './policy.ts';

export type BreakerState = 'closed' | 'open' | 'half_open';

/**
 * One circuit per provider. Closed: everything passes; N consecutive retryable failures within the
 * window open it. Open: fail fast with `unavailable`/`circuit_open` until the cooldown ends. Half-open:
 * exactly one probe goes through; its success closes the circuit, its failure re-opens it.
 */
export class CircuitBreaker {
  private readonly policy: BreakerPolicy;
  private readonly clock: Clock;
  private readonly provider: string;
  private failures: number[] = [];
  private openedAt = 0;
  private probing = false;
  private current: BreakerState = 'closed';

  constructor(provider: string, policy: BreakerPolicy, clock: Clock) {
    this.provider = provider;
    this.policy = policy;
    this.clock = clock;
  }

  get state(): BreakerState {
    if (this.current === 'open' && this.clock.now() - this.openedAt >= this.policy.cooldownMs) {
      return 'half_open';
    }
    return this.current;
  }

  /** Throws `circuit_open` when the call may not go through; otherwise admits it (maybe as the probe). */
  admit(): void {
    const state = this.state;
    if (state === 'closed') return;
    if (state === 'half_open' && !this.probing) {
      this.current = 'half_open';
      this.probing = true;
      return;
    }
    const waitMs = Math.max(0, this.openedAt + this.policy.cooldownMs - this.clock.now());
    throw new PixelError({
      code: 'unavailable',
      reason: 'circuit_open',
      retryable: true,
      retryAfterMs: waitMs,
      provider: this.provider,
      message: `${this.provider} is failing; its circuit is open${waitMs > 0 ? ` for another ${waitMs} ms` : ' while a probe runs'}`,
    });
  }

  /** The provider answered (an image, or a definite refusal such as bad input or moderation). */
  onSuccess(): void {
    this.failures = [];
    this.probing = false;
    this.current = 'closed';
  }

  /** Counts a failure that says the provider is unhealthy. */
  onFailure(): void {
    const now = this.clock.now();
    if (this.current === 'half_open') {
      this.trip(now);
      return;
    }
    this.failures = this.failures.filter((t) => now - t < this.policy.windowMs);
    this.failures.push(now);
    if (this.failures.length >= this.policy.failureThreshold) this.trip(now);
  }

  /**
   * A call that said nothing about the provider's health (the caller cancelled, it was throttled,
   * it never left the queue): a probe slot it held is given back, nothing else changes.
   */
  onNeutral(): void {
    if (this.current === 'half_open') this.probing = false;
  }

  private trip(now: number): void {
    this.current = 'open';
    this.openedAt = now;
    this.probing = false;
    this.failures = [];
  }
}
