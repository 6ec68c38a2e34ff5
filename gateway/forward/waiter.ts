/**
 * Sleeping on the injected clock, interruptibly: the loop waits for a timer,
 * for a notify (new records), or for stop, whichever the wait admits first.
 * Timer callbacks only resolve a promise, so nothing can throw from a timer.
 */
import type { Clock, TimerHandle } from '../core/contracts.js';

export type WakeReason = 'timer' | 'notify' | 'stop';

export class Waiter {
  readonly #clock: Clock;
  #current: { resolve: (r: WakeReason) => void; onNotify: boolean; timer: TimerHandle | undefined } | undefined;
  /** A notify that came while no wait admitted it; the next notify-wait returns at once. */
  #pendingNotify = false;
  #stopped = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Waits `ms` (undefined = no timer); `onNotify` lets notify() end the wait early. */
  wait(ms: number | undefined, onNotify: boolean): Promise<WakeReason> {
    if (this.#stopped) return Promise.resolve('stop');
    if (onNotify && this.#pendingNotify) {
      this.#pendingNotify = false;
      return Promise.resolve('notify');
    }
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : this.#clock.setTimeout(() => this.#wake('timer'), ms);
      this.#current = { resolve, onNotify, timer };
    });
  }

  notify(): void {
    if (this.#current?.onNotify) this.#wake('notify');
    else this.#pendingNotify = true;
  }

  /** Consumes a pending notify; true if there was one. */
  takeNotify(): boolean {
    const had = this.#pendingNotify;
    this.#pendingNotify = false;
    return had;
  }

  stop(): void {
    this.#stopped = true;
    this.#wake('stop');
  }

  #wake(reason: WakeReason): void {
    const c = this.#current;
    if (!c) return;
    this.#current = undefined;
    if (c.timer && reason !== 'timer') this.#clock.clearTimeout(c.timer);
    c.resolve(reason);
  }
}
