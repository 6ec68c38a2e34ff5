/**
 * Per-sink circuit state, for /api/status and alerting on it. The delivery
 * loop never skips a batch, so "open" does not drop anything: it means
 * attempts are failing and the loop waits out its backoff before a single
 * half-open probe (the same batch), whose outcome closes or reopens it.
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

export class Circuit {
  readonly #openAfter: number;
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt: number | null = null;
  #firstFailureAt: number | null = null;

  constructor(openAfter: number) {
    this.#openAfter = openAfter;
  }

  get state(): CircuitState {
    return this.#state;
  }
  /** Consecutive failed attempts. */
  get failures(): number {
    return this.#failures;
  }
  get openedAt(): number | null {
    return this.#openedAt;
  }
  /** When the current run of failures began (the outage, as far as this sink can tell). */
  get outageSince(): number | null {
    return this.#firstFailureAt;
  }

  /** An attempt is starting; after an open wait it is the half-open probe. */
  attempting(): void {
    if (this.#state === 'open') this.#state = 'half-open';
  }

  /** The upstream answered (delivered or rejected): it is reachable again. Returns true if this ended an outage. */
  succeeded(): boolean {
    const ended = this.#failures > 0;
    this.#state = 'closed';
    this.#failures = 0;
    this.#openedAt = null;
    this.#firstFailureAt = null;
    return ended;
  }

  /** Returns true if this failure opened (or reopened) the circuit. */
  failed(now: number): boolean {
    this.#failures++;
    this.#firstFailureAt ??= now;
    if (this.#state === 'half-open' || (this.#state === 'closed' && this.#failures >= this.#openAfter)) {
      const opened = this.#state === 'closed';
      this.#state = 'open';
      this.#openedAt ??= now;
      return opened;
    }
    return false;
  }
}
