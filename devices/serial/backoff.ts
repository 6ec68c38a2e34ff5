/**
 * Waits between reopen attempts: doubling from `initial` up to `max`, with
 * ±20% jitter so ten ports behind one USB hub do not retry in lockstep.
 */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(initialMs: number, maxMs: number, random: () => number = Math.random) {
    this.#initial = Math.max(1, initialMs);
    this.#max = Math.max(this.#initial, maxMs);
    this.#random = random;
  }

  next(): number {
    const base = Math.min(this.#max, this.#initial * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(base * (0.8 + 0.4 * this.#random()));
  }

  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}
