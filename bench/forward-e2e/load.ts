/**
 * One QoS 1 publisher on the raw-socket client (bench/harness/wire-client.ts:
 * it costs far less per message than the broker it measures), with a bounded
 * window of unacknowledged publishes. Two modes: flood (as fast as PUBACKs
 * come back) and paced (a fixed rate, for the outage runs).
 */
import { performance } from 'node:perf_hooks';
import { WireClient } from '../harness/wire-client.js';

export interface LoadResult {
  /** PUBACKs received before the deadline (flood) or before stop (paced). */
  readonly acked: number;
  readonly elapsedMs: number;
  /** acked per second. */
  readonly rate: number;
}

export class Publisher {
  readonly #client: WireClient;
  readonly #prepared: readonly Buffer[];
  #sent = 0;
  #acked = 0;

  private constructor(client: WireClient, prepared: readonly Buffer[]) {
    this.#client = client;
    this.#prepared = prepared;
    client.onPuback = () => void this.#acked++;
  }

  /** `prepared` PUBLISH packets are sent round and round (packet ids repeat far outside any window). */
  static async connect(port: number, clientId: string, prepared: readonly Buffer[]): Promise<Publisher> {
    return new Publisher(await WireClient.connect(port, clientId), prepared);
  }

  get acked(): number {
    return this.#acked;
  }

  /** As fast as the broker acknowledges, `window` in flight, for `durationMs`. Call settle() after for the rest. */
  async flood(durationMs: number, window: number): Promise<LoadResult> {
    const start = performance.now();
    const ackedBefore = this.#acked;
    let open = true;
    const pump = () => {
      if (!open) return;
      const limit = this.#acked + window;
      if (this.#sent >= limit) return;
      this.#client.cork();
      while (this.#sent < limit) this.#send();
      this.#client.uncork();
    };
    this.#client.onRead = pump;
    pump();
    await new Promise((r) => setTimeout(r, durationMs));
    open = false;
    const elapsedMs = performance.now() - start;
    const acked = this.#acked - ackedBefore;
    this.#client.onRead = () => {};
    this.#fail();
    return { acked, elapsedMs, rate: (acked / elapsedMs) * 1000 };
  }

  /** `rate` messages/s in 10 ms slices, never more than `window` unacknowledged, until stop(). */
  paced(rate: number, window: number): { stop(): Promise<LoadResult> } {
    const start = performance.now();
    const ackedBefore = this.#acked;
    const sentBefore = this.#sent;
    const timer = setInterval(() => {
      const due = Math.floor(((performance.now() - start) * rate) / 1000) - (this.#sent - sentBefore);
      const room = this.#acked + window - this.#sent;
      const n = Math.min(due, room);
      if (n <= 0) return;
      this.#client.cork();
      for (let i = 0; i < n; i++) this.#send();
      this.#client.uncork();
    }, 10);
    return {
      stop: async () => {
        clearInterval(timer);
        const elapsedMs = performance.now() - start;
        await this.settle(10_000);
        this.#fail();
        const acked = this.#acked - ackedBefore;
        return { acked, elapsedMs, rate: (acked / elapsedMs) * 1000 };
      },
    };
  }

  /** Waits until every sent publish is acknowledged, at most `ms`. */
  async settle(ms: number): Promise<void> {
    const until = performance.now() + ms;
    while (this.#acked < this.#sent && performance.now() < until && !this.#client.error) await new Promise((r) => setTimeout(r, 10));
  }

  close(): Promise<void> {
    return this.#client.close();
  }

  #send(): void {
    this.#client.send(this.#prepared[this.#sent % this.#prepared.length]);
    this.#sent++;
  }

  #fail(): void {
    if (this.#client.error) throw new Error(`the publisher lost its connection: ${this.#client.error.message}`);
  }
}
