/**
 * A per-key time kept as two small integers. V8 stores a double-valued field
 * as a separate heap number, so with thousands of keys reading or writing a
 * key's last time costs a cache line of its own, a miss on most readings; a
 * small integer lives inside the object. `hi` counts 2^30 ms (about 12 days)
 * and `lo` the rest, so both fit V8's smallest small integers (31 bits) for
 * any date. A time that is not a whole millisecond still works: `lo` is then a
 * double, which is correct, only slower.
 */
const SPLIT = 2 ** 30;

export interface SmallTime {
  hi: number;
  lo: number;
}

/** Before every time: the value of a key that has seen nothing yet. */
export const NEVER_HI = -SPLIT;

/** The high part of a time; the low part is `t - hi * TIME_SPLIT`. */
export const TIME_SPLIT = SPLIT;
export const hiOf = (t: number): number => Math.floor(t / SPLIT);

/**
 * The low part, as an int32 when it is whole: `t - hi * SPLIT` is computed in
 * doubles, and V8 would store even a whole double as a heap number (and turn
 * the field into a double field for every object of its shape).
 */
export function loOf(t: number, hi: number): number {
  const lo = t - hi * SPLIT;
  const whole = lo | 0;
  return whole === lo ? whole : lo;
}

export function setTime(into: SmallTime, t: number): void {
  const hi = Math.floor(t / SPLIT);
  into.hi = hi;
  into.lo = loOf(t, hi);
}

/** Whether `t` is earlier than the stored time. */
export function isBefore(t: number, stored: SmallTime): boolean {
  return isBeforeParts(t, stored.hi, stored.lo);
}

/** Whether `t` is earlier than the time kept as its two parts elsewhere (a device's slot cells). */
export function isBeforeParts(t: number, hi: number, lo: number): boolean {
  const th = Math.floor(t / SPLIT);
  return th < hi || (th === hi && t - th * SPLIT < lo);
}

export function timeOf(stored: SmallTime): number {
  return stored.hi * SPLIT + stored.lo;
}
