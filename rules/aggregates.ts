/**
 * Window aggregates. Running sums, Welford's mean and variance (stable for
 * values like 1e6 ± 0.1), first/last by event time; raw values are kept only
 * when a percentile needs them.
 */

export const AGGREGATE_PATTERN = '^(avg|min|max|sum|count|stddev|first|last|delta|median|p([1-9]|[1-9][0-9]))$';

/**
 * The running numbers live in one array of doubles, which V8 stores unboxed
 * and contiguous: one cache line per window instead of ten boxed fields (and
 * still plain JSON for snapshots).
 */
export interface Acc {
  readonly m: number[];
  /** Raw values, only when a percentile is asked for. */
  values: number[] | null;
}

const N = 0;
const SUM = 1;
const MEAN = 2;
const M2 = 3;
const MIN = 4;
const MAX = 5;
const FIRST = 6;
const FIRST_TS = 7;
const LAST = 8;
const LAST_TS = 9;

export function newAcc(keepValues: boolean): Acc {
  // the 0.5 makes the literal an array of doubles from the start; it is reset below
  const m = [0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  m[0] = 0;
  return { m, values: keepValues ? [] : null };
}

export const accCount = (a: Acc): number => a.m[N]!;
export const accFirstTs = (a: Acc): number => a.m[FIRST_TS]!;

/** Adds a value; returns false when the raw-value buffer is full (the value still counts for everything else). */
export function accAdd(a: Acc, v: number, ts: number, maxValues: number): boolean {
  const m = a.m;
  const n = m[N]!;
  if (n === 0) {
    m[MIN] = m[MAX] = m[FIRST] = m[LAST] = v;
    m[FIRST_TS] = m[LAST_TS] = ts;
  } else {
    if (v < m[MIN]!) m[MIN] = v;
    if (v > m[MAX]!) m[MAX] = v;
    if (ts < m[FIRST_TS]!) {
      m[FIRST] = v;
      m[FIRST_TS] = ts;
    }
    if (ts >= m[LAST_TS]!) {
      m[LAST] = v;
      m[LAST_TS] = ts;
    }
  }
  m[N] = n + 1;
  m[SUM] = m[SUM]! + v;
  const d = v - m[MEAN]!;
  m[MEAN] = m[MEAN]! + d / (n + 1);
  m[M2] = m[M2]! + d * (v - m[MEAN]!);
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
  const m = a.m;
  const n = m[N]!;
  const out: Record<string, number> = { count: n };
  let sorted: number[] | undefined;
  for (const name of names) {
    switch (name) {
      case 'avg':
        out[name] = m[MEAN]!;
        break;
      case 'min':
        out[name] = m[MIN]!;
        break;
      case 'max':
        out[name] = m[MAX]!;
        break;
      case 'sum':
        out[name] = m[SUM]!;
        break;
      case 'count':
        out[name] = n;
        break;
      case 'stddev':
        // sample standard deviation (n - 1), 0 for a single value
        out[name] = n > 1 ? Math.sqrt(m[M2]! / (n - 1)) : 0;
        break;
      case 'first':
        out[name] = m[FIRST]!;
        break;
      case 'last':
        out[name] = m[LAST]!;
        break;
      case 'delta':
        out[name] = m[LAST]! - m[FIRST]!;
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
