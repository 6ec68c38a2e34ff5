/**
 * Every rule key's next deadline in one min-heap, with a single clock timer
 * armed for the earliest. Thousands of keys with windows, debounces and
 * deadman deadlines cost one timer, and a virtual clock stays fast.
 *
 * A deadline that moves later is not re-queued: the old entry pops, sees the
 * target's current wish and re-queues it (the lazy extension a deadman needs,
 * whose deadline moves on every reading). An entry that no longer matches its
 * target's scheduled time is stale and skipped.
 */
import type { Clock, TimerHandle } from '../gateway/core/contracts.js';

export interface WakeTarget {
  /** The time the target wants to be woken, or undefined. */
  want: number | undefined;
  /** The due time of its live heap entry, or undefined. */
  queued: number | undefined;
  alive: boolean;
  wake(now: number): void;
}

interface Entry {
  readonly due: number;
  readonly seq: number;
  readonly target: WakeTarget;
}

export class WakeScheduler {
  readonly #clock: Clock;
  readonly #heap: Entry[] = [];
  #seq = 0;
  #timer: TimerHandle | undefined;
  #timerDue = Infinity;
  #running = false;
  #closed = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get pending(): number {
    return this.#heap.length;
  }

  /** Call after the target's `want` may have changed. */
  update(target: WakeTarget): void {
    const want = target.want;
    if (want === undefined || (target.queued !== undefined && target.queued <= want)) return;
    target.queued = want;
    this.#push({ due: want, seq: ++this.#seq, target });
    if (!this.#running && want < this.#timerDue) this.#arm();
  }

  /** Wakes every target due at or before now, in due order. */
  runDue(now: number): void {
    if (this.#running) return;
    this.#running = true;
    try {
      for (;;) {
        const top = this.#heap[0];
        if (!top || top.due > now) break;
        this.#pop();
        const t = top.target;
        if (!t.alive || t.queued !== top.due) continue; // stale
        t.queued = undefined;
        if (t.want === undefined) continue;
        if (t.want > now) {
          this.update(t);
          continue;
        }
        t.wake(now);
        // a target still due after its wake-up made no progress; retry next tick rather than spin
        if (t.want !== undefined && t.want <= now) t.want = now + 1;
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
    this.#heap.length = 0;
  }

  #arm(): void {
    if (this.#closed) return;
    const due = this.#heap[0]?.due ?? Infinity;
    if (due === this.#timerDue) return;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = due;
    if (due === Infinity) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerDue = Infinity;
      this.runDue(this.#clock.now());
    }, due - this.#clock.now());
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!less(h[i]!, parent)) break;
      h[p] = h[i]!;
      h[i] = parent;
      i = p;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && less(h[l]!, h[m]!)) m = l;
      if (r < h.length && less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      const child = h[m]!;
      h[m] = h[i]!;
      h[i] = child;
      i = m;
    }
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}
