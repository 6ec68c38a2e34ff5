import type { Clock, TimerHandle } from './contracts.js';

class NodeTimer implements TimerHandle {
  constructor(
    readonly id: number,
    readonly timeout: NodeJS.Timeout,
  ) {}
}

/** The wall clock. Only the composition root creates it; everything else gets a Clock. */
export class SystemClock implements Clock {
  #next = 0;
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = setTimeout(fn, ms);
    t.unref();
    return new NodeTimer(++this.#next, t);
  }
  clearTimeout(handle: TimerHandle): void {
    if (handle instanceof NodeTimer) clearTimeout(handle.timeout);
  }
}

/** A clock tests advance by hand; timers fire in due order, ties in creation order. */
export class VirtualClock implements Clock {
  #now: number;
  #next = 0;
  #timers = new Map<number, { due: number; fn: () => void }>();

  constructor(start = 0) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#next;
    this.#timers.set(id, { due: this.#now + Math.max(0, ms), fn });
    return { id };
  }
  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle.id);
  }
  /** Moves time forward to `to`, firing every timer due on the way. */
  advanceTo(to: number): void {
    for (;;) {
      let nextId = -1;
      let nextDue = Infinity;
      for (const [id, t] of this.#timers) {
        if (t.due <= to && t.due < nextDue) {
          nextDue = t.due;
          nextId = id;
        }
      }
      if (nextId < 0) break;
      const timer = this.#timers.get(nextId)!;
      this.#timers.delete(nextId);
      this.#now = Math.max(this.#now, timer.due);
      timer.fn();
    }
    this.#now = Math.max(this.#now, to);
  }
  advanceBy(ms: number): void {
    this.advanceTo(this.#now + ms);
  }
  pending(): number {
    return this.#timers.size;
  }
}
