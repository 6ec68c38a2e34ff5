/**
 * Retry delays: exponential with full jitter (a uniform draw below a bound
 * that doubles per attempt, capped), so many gateways coming back after the
 * same outage do not retry in lockstep. An upstream's Retry-After is a floor.
 * Model: kafkajs `src/retry/index.js`; AWS "Exponential Backoff and Jitter".
 */
export interface BackoffPolicy {
  readonly minMs: number;
  readonly maxMs: number;
  /** A uniform draw in [0, 1); tests inject a fixed one. */
  readonly random: () => number;
}

/** The bound for the n-th consecutive failure (n starts at 1): min·2^(n-1), capped at max. */
export function backoffBound(policy: BackoffPolicy, failures: number): number {
  const exp = Math.min(failures - 1, 52); // 2^52 already exceeds any cap; avoids Infinity
  return Math.min(policy.maxMs, policy.minMs * 2 ** Math.max(0, exp));
}

/** Milliseconds to wait before the next attempt. */
export function backoffDelay(policy: BackoffPolicy, failures: number, retryAfterMs?: number): number {
  const jittered = Math.floor(policy.random() * backoffBound(policy, failures));
  return retryAfterMs !== undefined && retryAfterMs > jittered ? retryAfterMs : jittered;
}
