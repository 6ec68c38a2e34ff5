/**
 * A log-bucketed histogram in the spirit of HdrHistogram: constant memory, any
 * number of samples, percentiles within 2% of the true value. Enough for
 * latency and scheduling lag; not the hdr-histogram-js package (not a dependency).
 */
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
/** Covers 0 to about 10^8 ms (a day is 8.6e7). */
const BUCKETS = 1000;

export interface Percentiles {
  readonly count: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = 0;

  record(value: number): void {
    const v = Math.max(0, value);
    const bucket = Math.min(BUCKETS - 1, Math.ceil(Math.log1p(v) / LOG_GROWTH));
    this.#counts[bucket]!++;
    this.#count++;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  get count(): number {
    return this.#count;
  }

  /** The value below which `p` percent of the samples fall (the bucket's upper edge, capped at the maximum seen). */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.ceil((p / 100) * this.#count);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.#counts[b]!;
      if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, Math.expm1(b * LOG_GROWTH)));
    }
    return this.#max;
  }

  summary(): Percentiles {
    const r = (v: number) => Math.round(v * 100) / 100;
    return {
      count: this.#count,
      min: r(this.#count ? this.#min : 0),
      p50: r(this.percentile(50)),
      p90: r(this.percentile(90)),
      p99: r(this.percentile(99)),
      p999: r(this.percentile(99.9)),
      max: r(this.#max),
      mean: r(this.#count ? this.#sum / this.#count : 0),
    };
  }
}
