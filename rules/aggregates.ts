/**
 * Window aggregates. Running sums, Welford's mean and variance (stable for
 * values like 1e6 ± 0.1), first/last by event time; raw values are kept only
 * when a percentile needs them.
 */

export const AGGREGATE_PATTERN = '^(avg|min|max|sum|count|stddev|first|last|delta|median|p([1-9]|[1-9][0-9]))$';

export interface Acc {
  n: number;
  sum: number;
  mean: number;
  m2: number;
  min: number;
  max: number;
  first: number;
  firstTs: number;
  last: number;
  lastTs: number;
  /** Raw values, only when a percentile is asked for. */
  values: number[] | null;
}

export function newAcc(keepValues: boolean): Acc {
  return { n: 0, sum: 0, mean: 0, m2: 0, min: 0, max: 0, first: 0, firstTs: 0, last: 0, lastTs: 0, values: keepValues ? [] : null };
}

/** Adds a value; returns false when the raw-value buffer is full (the value still counts for everything else). */
export function accAdd(a: Acc, v: number, ts: number, maxValues: number): boolean {
  if (a.n === 0) {
    a.min = a.max = a.first = a.last = v;
    a.firstTs = a.lastTs = ts;
  } else {
    if (v < a.min) a.min = v;
    if (v > a.max) a.max = v;
    if (ts < a.firstTs) {
      a.first = v;
      a.firstTs = ts;
    }
    if (ts >= a.lastTs) {
      a.last = v;
      a.lastTs = ts;
    }
  }
  a.n++;
  a.sum += v;
  const d = v - a.mean;
  a.mean += d / a.n;
  a.m2 += d * (v - a.mean);
  if (a.values) {
    if (a.values.length >= maxValues) return false;
    a.values.push(v);
  }
  return true;
}

/** Builds an accumulator over parallel arrays (sliding windows recompute on each step). */
export function accOf(ts: readonly number[], vs: readonly number[], keepValues: boolean): Acc {
  const a = newAcc(keepValues);
  for (let i = 0; i < vs.length; i++) accAdd(a, vs[i]!, ts[i]!, Infinity);
  return a;
}

/** The named aggregates of a non-empty accumulator. */
export function accResult(a: Acc, names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = { count: a.n };
  let sorted: number[] | undefined;
  for (const name of names) {
    switch (name) {
      case 'avg':
        out[name] = a.mean;
        break;
      case 'min':
        out[name] = a.min;
        break;
      case 'max':
        out[name] = a.max;
        break;
      case 'sum':
        out[name] = a.sum;
        break;
      case 'count':
        out[name] = a.n;
        break;
      case 'stddev':
        // sample standard deviation (n - 1), 0 for a single value
        out[name] = a.n > 1 ? Math.sqrt(a.m2 / (a.n - 1)) : 0;
        break;
      case 'first':
        out[name] = a.first;
        break;
      case 'last':
        out[name] = a.last;
        break;
      case 'delta':
        out[name] = a.last - a.first;
        break;
      default: {
        sorted ??= (a.values ?? []).slice().sort((x, y) => x - y);
        out[name] = percentile(sorted, name === 'median' ? 50 : Number(name.slice(1)));
      }
    }
  }
  return out;
}

/** Linear interpolation between closest ranks (numpy's default, R type 7). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const h = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export function needsValues(names: readonly string[]): boolean {
  return names.some((n) => n === 'median' || /^p\d/.test(n));
}
