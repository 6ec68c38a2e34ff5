/**
 * The drain-rate cap: a token bucket in records per second, on the injected
 * clock. It holds one batch worth of burst, so after an outage the backlog
 * drains at a steady rate instead of saturating the disk, CPU and uplink that
 * live ingestion shares. Live traffic below the cap never waits.
 */
import type { Clock } from '../core/contracts.js';

export class Pacer {
  readonly #rate: number;
  readonly #capacity: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  /** rate 0 means no cap. */
  constructor(rate: number, burst: number, clock: Clock) {
    this.#rate = rate;
    this.#capacity = Math.max(1, burst);
    this.#clock = clock;
    this.#tokens = this.#capacity;
    this.#last = clock.now();
  }

  /** Milliseconds to wait before `n` records may go; 0 when they may go now. */
  delayFor(n: number): number {
    if (this.#rate <= 0) return 0;
    this.#refill();
    const need = Math.min(n, this.#capacity);
    return this.#tokens >= need ? 0 : Math.ceil(((need - this.#tokens) * 1000) / this.#rate);
  }

  /** Spends tokens for `n` records (may go into debt for a batch larger than the burst). */
  take(n: number): void {
    if (this.#rate <= 0) return;
    this.#refill();
    this.#tokens -= n;
  }

  #refill(): void {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#last) * this.#rate) / 1000);
    this.#last = now;
  }
}
