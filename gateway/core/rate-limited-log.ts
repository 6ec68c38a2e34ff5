/**
 * Lets a noisy key (a device sending garbage 100 times a second) log at most a
 * few lines per interval, and says how many it held back.
 */
export class RateLimiter {
  readonly #perInterval: number;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, { start: number; count: number }>();
  static readonly #MAX_KEYS = 10_000;

  constructor(perInterval: number, intervalMs: number, now: () => number = Date.now) {
    this.#perInterval = perInterval;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Returns -1 to suppress, otherwise how many lines were suppressed since the last one (0 or more). */
  admit(key: string): number {
    const now = this.#now();
    const w = this.#windows.get(key);
    if (!w || now - w.start >= this.#intervalMs) {
      const suppressed = w ? Math.max(0, w.count - this.#perInterval) : 0;
      if (this.#windows.size >= RateLimiter.#MAX_KEYS && !w) this.#windows.clear();
      this.#windows.set(key, { start: now, count: 1 });
      return suppressed;
    }
    w.count++;
    return w.count <= this.#perInterval ? 0 : -1;
  }
}
