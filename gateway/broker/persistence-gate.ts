/**
 * Per-key shared/exclusive scheduling. Shared operations on one key run together; an exclusive one
 * waits for those in progress, holds back any that arrive after it, and runs alone. The broker store
 * uses it so the common path (enqueue under the cap, update, clear) keeps aedes' concurrency and
 * only count loading and drop-oldest, which read the queue and then rewrite it, run alone.
 */
interface Gate {
  /** Shared operations waiting or running: the gate must outlive them. */
  holders: number;
  active: number;
  drained: Array<() => void>;
  barrier: Promise<void> | undefined;
}

const noop = (): void => {};

export class KeyedGate {
  #gates = new Map<string, Gate>();
  #inflight = new Set<Promise<unknown>>();

  async shared<T>(key: string, op: () => Promise<T>): Promise<T> {
    const gate = this.#gate(key);
    gate.holders++;
    try {
      while (gate.barrier !== undefined) await gate.barrier;
      gate.active++;
      try {
        return await this.#track(op());
      } finally {
        if (--gate.active === 0) for (const wake of gate.drained.splice(0)) wake();
      }
    } finally {
      gate.holders--;
      this.#forgetIfIdle(key, gate);
    }
  }

  exclusive<T>(key: string, op: () => Promise<T>): Promise<T> {
    const gate = this.#gate(key);
    const drained = (): Promise<void> =>
      gate.active === 0 ? Promise.resolve() : new Promise((wake) => gate.drained.push(wake));
    const run = this.#track((gate.barrier ?? Promise.resolve()).then(drained).then(op));
    const barrier = run.then(noop, noop);
    gate.barrier = barrier;
    // Registered before any shared waiter can await this barrier, so it runs first and they
    // see either no barrier or the next one.
    void barrier.then(() => {
      if (gate.barrier === barrier) gate.barrier = undefined;
      this.#forgetIfIdle(key, gate);
    });
    return run;
  }

  /** Resolves once every operation started so far has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#inflight]);
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inflight.add(promise);
    const untrack = (): void => void this.#inflight.delete(promise);
    promise.then(untrack, untrack);
    return promise;
  }

  #gate(key: string): Gate {
    let gate = this.#gates.get(key);
    if (gate === undefined) {
      gate = { holders: 0, active: 0, drained: [], barrier: undefined };
      this.#gates.set(key, gate);
    }
    return gate;
  }

  #forgetIfIdle(key: string, gate: Gate): void {
    if (gate.holders === 0 && gate.barrier === undefined && this.#gates.get(key) === gate) this.#gates.delete(key);
  }
}
