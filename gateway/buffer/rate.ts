/**
 * Records per second over a sliding window, from a running total sampled at
 * events: the drain rate of a sink (acked) and the append rate of the log.
 */
const WINDOW_MS = 60_000;
const MAX_SAMPLES = 120;

export class Rate {
  #total = 0;
  /** [time, total] pairs, oldest first, at least ~WINDOW_MS/MAX_SAMPLES apart. */
  readonly #samples: [number, number][] = [];

  add(n: number, now: number): void {
    this.#total += n;
    const last = this.#samples[this.#samples.length - 1];
    if (last && now - last[0] < WINDOW_MS / MAX_SAMPLES) last[1] = this.#total;
    else this.#samples.push([now, this.#total]);
    while (this.#samples.length > 1 && now - this.#samples[1]![0] >= WINDOW_MS) this.#samples.shift();
  }

  get total(): number {
    return this.#total;
  }

  /** Per second over the last minute (or since the first event, if sooner); 0 without history. */
  perSecond(now: number): number {
    const first = this.#samples[0];
    if (!first) return 0;
    // Before the first sample the total was what that sample's events had not yet added: unknown, so start there.
    const span = Math.min(WINDOW_MS, now - first[0]);
    if (span <= 0) return 0;
    const base = now - first[0] > WINDOW_MS ? this.#totalAt(now - WINDOW_MS) : first[1];
    return ((this.#total - base) * 1000) / span;
  }

  #totalAt(t: number): number {
    let v = this.#samples[0]![1];
    for (const [time, total] of this.#samples) {
      if (time > t) break;
      v = total;
    }
    return v;
  }
}
