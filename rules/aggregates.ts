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
/** How many numbers one accumulator takes, for callers that keep several in one flat array. */
export const ACC_WIDTH = 10;

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
  accAddAt(a.m, 0, v, ts);
  if (a.values) {
    if (a.values.length >= maxValues) return false;
    a.values.push(v);
  }
  return true;
}

/** Adds a value to the accumulator stored at `m[o .. o + ACC_WIDTH)` (zeros: empty). */
export function accAddAt(m: number[], o: number, v: number, ts: number): void {
  const n = m[o + N]!;
  if (n === 0) {
    m[o + MIN] = m[o + MAX] = m[o + FIRST] = m[o + LAST] = v;
    m[o + FIRST_TS] = m[o + LAST_TS] = ts;
  } else {
    if (v < m[o + MIN]!) m[o + MIN] = v;
    if (v > m[o + MAX]!) m[o + MAX] = v;
    if (ts < m[o + FIRST_TS]!) {
      m[o + FIRST] = v;
      m[o + FIRST_TS] = ts;
    }
    if (ts >= m[o + LAST_TS]!) {
      m[o + LAST] = v;
      m[o + LAST_TS] = ts;
    }
  }
  m[o + N] = n + 1;
  m[o + SUM] = m[o + SUM]! + v;
  const d = v - m[o + MEAN]!;
  const mean = m[o + MEAN]! + d / (n + 1);
  m[o + MEAN] = mean;
  m[o + M2] = m[o + M2]! + d * (v - mean);
}

/** Builds an accumulator over parallel arrays (sliding windows recompute on each step). */
export function accOf(ts: readonly number[], vs: readonly number[], keepValues: boolean): Acc {
  const a = newAcc(keepValues);
  for (let i = 0; i < vs.length; i++) accAdd(a, vs[i]!, ts[i]!, Infinity);
  return a;
}

/** The named aggregates of a non-empty accumulator. */
export function accResult(a: Acc, names: readonly string[]): Record<string, number> {
  return accResultAt(a.m, 0, a.values, names);
}

/** The named aggregates of the non-empty accumulator at `m[o ..]`, with its raw values if kept. */
export function accResultAt(m: readonly number[], o: number, values: readonly number[] | null, names: readonly string[]): Record<string, number> {
  const n = m[o + N]!;
  const out: Record<string, number> = { count: n };
  let sorted: number[] | undefined;
  for (const name of names) {
    switch (name) {
      case 'avg':
        out[name] = m[o + MEAN]!;
        break;
      case 'min':
        out[name] = m[o + MIN]!;
        break;
      case 'max':
        out[name] = m[o + MAX]!;
        break;
      case 'sum':
        out[name] = m[o + SUM]!;
        break;
      case 'count':
        out[name] = n;
        break;
      case 'stddev':
        // sample standard deviation (n - 1), 0 for a single value
        out[name] = n > 1 ? Math.sqrt(m[o + M2]! / (n - 1)) : 0;
        break;
      case 'first':
        out[name] = m[o + FIRST]!;
        break;
      case 'last':
        out[name] = m[o + LAST]!;
        break;
      case 'delta':
        out[name] = m[o + LAST]! - m[o + FIRST]!;
        break;
      default: {
        sorted ??= (values ?? []).slice().sort((x, y) => x - y);
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
