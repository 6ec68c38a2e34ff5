/**
 * Request/response devices: a request every `every`, the next frame within
 * `timeout` is its answer. A frame outside that window cannot be told apart
 * from the answer to the next request, so the source drops it as late.
 */
import type { Clock, TimerHandle } from '../../gateway/core/contracts.js';

export interface PollerOptions {
  readonly everyMs: number;
  readonly timeoutMs: number;
  readonly clock: Clock;
  /** Writes the request; called on every tick. */
  readonly send: () => void;
  readonly onTimeout: () => void;
}

export class Poller {
  readonly #o: PollerOptions;
  #tick: TimerHandle | undefined;
  #deadline: TimerHandle | undefined;
  #nextAt = 0;

  constructor(options: PollerOptions) {
    this.#o = options;
  }

  /** First request after one interval: a device that resets on open (Arduino, via DTR) needs the time to boot. */
  start(): void {
    this.stop();
    this.#nextAt = this.#o.clock.now() + this.#o.everyMs;
    this.#schedule();
  }

  stop(): void {
    const { clock } = this.#o;
    if (this.#tick) clock.clearTimeout(this.#tick);
    if (this.#deadline) clock.clearTimeout(this.#deadline);
    this.#tick = this.#deadline = undefined;
  }

  get awaiting(): boolean {
    return this.#deadline !== undefined;
  }

  /** A frame arrived: true when it answers the outstanding request (and closes it). */
  answer(): boolean {
    if (!this.#deadline) return false;
    this.#o.clock.clearTimeout(this.#deadline);
    this.#deadline = undefined;
    return true;
  }

  #schedule(): void {
    const { clock } = this.#o;
    // fixed cadence: a slow write does not push every later request back
    this.#tick = clock.setTimeout(() => this.#fire(), Math.max(0, this.#nextAt - clock.now()));
  }

  #fire(): void {
    const { clock, everyMs, timeoutMs } = this.#o;
    this.#nextAt += everyMs;
    if (this.#nextAt < clock.now()) this.#nextAt = clock.now() + everyMs;
    this.#schedule();
    this.#deadline = clock.setTimeout(() => {
      this.#deadline = undefined;
      this.#o.onTimeout();
    }, timeoutMs);
    this.#o.send();
  }
}
