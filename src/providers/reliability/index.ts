export { retryDelayMs, shouldRetry } from './backoff.ts';
export { type BreakerState, CircuitBreaker } from './breaker.ts';
export { type Clock, systemClock } from './clock.ts';
export {
  canFallBack,
  type FallbackAttempt,
  type FallbackOptions,
  type FallbackResult,
  type FallbackRoute,
  runWithFallback,
} from './fallback.ts';
export { ManualClock } from './manual-clock.ts';
export {
  type BreakerPolicy,
  DEFAULT_POLICY,
  type ReliabilityPolicy,
  reliabilityPolicyFromEnv,
} from './policy.ts';
export { Semaphore } from './semaphore.ts';
export { TokenBucket } from './token-bucket.ts';
export { type ReliableAdapter, withReliability } from './with-reliability.ts';
