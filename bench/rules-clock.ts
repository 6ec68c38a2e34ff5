/**
 * A virtual clock for benchmarks that advance it on every reading. Same
 * contract as gateway/core VirtualClock (timers fire in due order, ties in
 * creation order, `now` steps to each timer's due time), but advancing with
 * nothing due is one comparison instead of a walk over every timer, so the
 * harness does not bill its own clock to the engine. The engine arms at most
 * one timer at a time, so a sorted array is plenty.
 */
import type { Clock, TimerHandle } from '../gateway/core/contracts.js';

interface Timer {
  readonly id: number;
  readonly due: number;
  readonly fn: () => void;
}

export class BenchClock implements Clock {
  #now: number;
  #next = 0;
  /** Sorted by due, then id. */
  #timers: Timer[] = [];

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = { id: ++this.#next, due: this.#now + Math.max(0, ms), fn };
    let i = this.#timers.length;
    while (i > 0 && this.#timers[i - 1]!.due > t.due) i--;
    this.#timers.splice(i, 0, t);
    return { id: t.id };
  }

  clearTimeout(handle: TimerHandle): void {
    const i = this.#timers.findIndex((t) => t.id === handle.id);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  advanceTo(to: number): void {
    for (let t = this.#timers[0]; t !== undefined && t.due <= to; t = this.#timers[0]) {
      this.#timers.shift();
      if (t.due > this.#now) this.#now = t.due;
      t.fn();
    }
    if (to > this.#now) this.#now = to;
  }
}
