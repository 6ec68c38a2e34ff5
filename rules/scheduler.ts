/**
 * Every rule key's next deadline in one min-heap, with a single clock timer
 * armed for the earliest. Thousands of keys with windows, debounces and
 * deadman deadlines cost one timer, and a virtual clock stays fast.
 *
 * A deadline that moves later is not re-queued: the old entry pops and wakes
 * the target early, which finds nothing due yet and states its current wish
 * (the lazy extension a deadman needs, whose deadline moves on every reading).
 * So a wake-up before the deadline must be harmless: every target checks its
 * own deadlines. An entry that no longer matches its target's scheduled time
 * is stale and skipped.
 */
import type { Clock, TimerHandle } from '../gateway/core/contracts.js';
import { hiOf, loOf, TIME_SPLIT } from './small-time.js';

/**
 * Something with a deadline. The wish and the queue entry are each a flag and
 * a time kept as two small integers (small-time.ts): a rule key's wish is
 * restated on every reading, and a double field would be a heap number of its
 * own, one more cache miss each time on a key that is rarely in the cache.
 */
export abstract class WakeTarget {
  alive = true;
  /** Whether the target wants to be woken, at wantAt. */
  wants = false;
  /** Whether it has a live heap entry, due at queuedAt. */
  queued = false;
  #wantHi = 0;
  #wantLo = 0;
  #queuedHi = 0;
  #queuedLo = 0;

  wantWakeAt(at: number): void {
    const hi = hiOf(at);
    this.wants = true;
    this.#wantHi = hi;
    this.#wantLo = loOf(at, hi);
  }

  get wantAt(): number {
    return this.#wantHi * TIME_SPLIT + this.#wantLo;
  }

  get queuedAt(): number {
    return this.#queuedHi * TIME_SPLIT + this.#queuedLo;
  }

  markQueued(at: number): void {
    const hi = hiOf(at);
    this.queued = true;
    this.#queuedHi = hi;
    this.#queuedLo = loOf(at, hi);
  }

  abstract wake(now: number): void;
}

export class WakeScheduler {
  readonly #clock: Clock;
  // the heap as three parallel arrays (due times unboxed): no object per entry
  readonly #due: number[] = [];
  readonly #seq: number[] = [];
  readonly #target: WakeTarget[] = [];
  #nextSeq = 0;
  #timer: TimerHandle | undefined;
  #timerDue = Infinity;
  #running = false;
  #closed = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get pending(): number {
    return this.#due.length;
  }

  /**
   * Call after the target's wish may have changed. Returns whether it queued
   * the target at its wish (not when an earlier wake-up is queued already).
   */
  update(target: WakeTarget): boolean {
    if (!target.wants) return false;
    const want = target.wantAt;
    if (target.queued && target.queuedAt <= want) return false;
    target.markQueued(want);
    this.#push(want, target);
    if (!this.#running && want < this.#timerDue) this.#arm();
    return true;
  }

  /** Wakes every target due at or before now, in due order. */
  runDue(now: number): void {
    // most calls (one per reading) find nothing due, and the timer already armed for the earliest
    if (this.#running || this.#due.length === 0 || this.#due[0]! > now) return;
    this.#running = true;
    try {
      const due = this.#due;
      while (due.length > 0 && due[0]! <= now) {
        const at = due[0]!;
        const t = this.#target[0]!;
        this.#pop();
        if (!t.alive || !t.queued || t.queuedAt !== at) continue; // stale
        t.queued = false;
        if (!t.wants) continue;
        t.wake(now);
        // a target still due after its wake-up made no progress; retry next tick rather than spin
        if (t.wants && t.wantAt <= now) t.wantWakeAt(now + 1);
        this.update(t);
      }
    } finally {
      this.#running = false;
    }
    this.#arm();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due.length = 0;
    this.#seq.length = 0;
    this.#target.length = 0;
  }

  #arm(): void {
    if (this.#closed) return;
    const due = this.#due.length > 0 ? this.#due[0]! : Infinity;
    if (due === this.#timerDue) return;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = due;
    if (due === Infinity) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerDue = Infinity;
      this.runDue(this.#clock.now());
      this.#arm(); // runDue arms only when something was due; a timer may fire a little early
    }, due - this.#clock.now());
  }

  /** Sift-up with a hole: the new entry is written once, where it lands. */
  #push(at: number, target: WakeTarget): void {
    const due = this.#due;
    const seq = this.#seq;
    const tgt = this.#target;
    const n = ++this.#nextSeq;
    let i = due.length;
    due.push(at);
    seq.push(n);
    tgt.push(target);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!(at < due[p]! || (at === due[p]! && n < seq[p]!))) break;
      due[i] = due[p]!;
      seq[i] = seq[p]!;
      tgt[i] = tgt[p]!;
      i = p;
    }
    due[i] = at;
    seq[i] = n;
    tgt[i] = target;
  }

  /** Removes the root: the last entry sinks from the top through a hole. */
  #pop(): void {
    const due = this.#due;
    const seq = this.#seq;
    const tgt = this.#target;
    const lastDue = due.pop()!;
    const lastSeq = seq.pop()!;
    const lastTarget = tgt.pop()!;
    const n = due.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && (due[r]! < due[l]! || (due[r] === due[l] && seq[r]! < seq[l]!)) ? r : l;
      if (!(due[m]! < lastDue || (due[m] === lastDue && seq[m]! < lastSeq))) break;
      due[i] = due[m]!;
      seq[i] = seq[m]!;
      tgt[i] = tgt[m]!;
      i = m;
    }
    due[i] = lastDue;
    seq[i] = lastSeq;
    tgt[i] = lastTarget;
  }
}
