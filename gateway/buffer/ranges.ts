/**
 * Offsets a sink has had delivered out of order (the alert lane, the live lane),
 * above its cursor, as sorted disjoint inclusive ranges. Forgetting one only
 * causes a duplicate delivery, so the set is capped rather than grown forever.
 */
const MAX_RANGES = 10_000;

export class Ranges {
  /** Flattened [from0, to0, from1, to1, ...], ascending. */
  #r: number[] = [];

  static from(pairs: readonly (readonly [number, number])[]): Ranges {
    const out = new Ranges();
    const r = out.#r;
    const sorted = pairs.filter(([a, b]) => Number.isSafeInteger(a) && Number.isSafeInteger(b) && a <= b).sort((x, y) => x[0] - y[0]);
    for (const [a, b] of sorted) {
      const n = r.length;
      if (n > 0 && a <= r[n - 1]! + 1) r[n - 1] = Math.max(r[n - 1]!, b);
      else if (n / 2 < MAX_RANGES) r.push(a, b);
    }
    return out;
  }

  get size(): number {
    return this.#r.length / 2;
  }

  /** How many offsets the ranges cover. */
  covered(): number {
    let n = 0;
    for (let i = 0; i < this.#r.length; i += 2) n += this.#r[i + 1]! - this.#r[i]! + 1;
    return n;
  }

  pairs(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.#r.length; i += 2) out.push([this.#r[i]!, this.#r[i + 1]!]);
    return out;
  }

  /** The range holding `offset`, as [from, to], if any. */
  containing(offset: number): readonly [number, number] | undefined {
    const i = this.#find(offset);
    return i >= 0 ? [this.#r[i]!, this.#r[i + 1]!] : undefined;
  }

  add(offset: number): void {
    const r = this.#r;
    // first range whose end is >= offset - 1 (it may absorb the offset)
    let lo = 0;
    let hi = r.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (r[mid * 2 + 1]! < offset - 1) lo = mid + 1;
      else hi = mid;
    }
    const i = lo * 2;
    if (i < r.length && r[i]! <= offset + 1) {
      if (offset >= r[i]! && offset <= r[i + 1]!) return;
      r[i] = Math.min(r[i]!, offset);
      r[i + 1] = Math.max(r[i + 1]!, offset);
      // joined the gap to the next range
      if (i + 2 < r.length && r[i + 2]! <= r[i + 1]! + 1) r.splice(i + 1, 2);
      return;
    }
    if (r.length / 2 >= MAX_RANGES) {
      if (i >= r.length) return; // the newest would be dropped anyway
      r.splice(r.length - 2, 2);
    }
    r.splice(i, 0, offset, offset);
  }

  /** Forgets everything below `next`. */
  dropBelow(next: number): void {
    const r = this.#r;
    let k = 0;
    while (k < r.length && r[k + 1]! < next) k += 2;
    if (k > 0) r.splice(0, k);
    if (r.length > 0 && r[0]! < next) r[0] = next;
  }

  #find(offset: number): number {
    const r = this.#r;
    let lo = 0;
    let hi = r.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (r[mid * 2 + 1]! < offset) lo = mid + 1;
      else if (r[mid * 2]! > offset) hi = mid - 1;
      else return mid * 2;
    }
    return -1;
  }
}
