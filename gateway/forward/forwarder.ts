/**
 * All delivery loops of a gateway: one per configured sink, each draining the
 * shared buffer at its own cursor and pace. The composition root makes one,
 * routes the buffer's appends to notify(), and shows status() in /api/status.
 */
import type { Logger } from 'pino';
import type { Clock, RecordBuffer, Sink } from '../core/contracts.js';
import type { Metrics } from '../metrics/metrics.js';
import type { DeliverySettings } from './config.js';
import { DeliveryLoop } from './delivery-loop.js';
import type { SinkStatus } from './sink-status.js';

export interface ForwarderOptions {
  readonly buffer: RecordBuffer;
  readonly sinks: readonly { readonly sink: Sink; readonly settings: DeliverySettings }[];
  readonly dataDir: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics?: Metrics;
  readonly random?: () => number;
}

export class Forwarder {
  readonly #loops: DeliveryLoop[];
  readonly #sinks: readonly Sink[];
  readonly #log: Logger;

  constructor(options: ForwarderOptions) {
    this.#log = options.log;
    this.#sinks = options.sinks.map((s) => s.sink);
    this.#loops = options.sinks.map(
      ({ sink, settings }) =>
        new DeliveryLoop({
          sink,
          settings,
          buffer: options.buffer,
          dataDir: options.dataDir,
          clock: options.clock,
          log: options.log.child({ sink: sink.name }),
          ...(options.metrics ? { metrics: options.metrics } : {}),
          ...(options.random ? { random: options.random } : {}),
        }),
    );
  }

  start(): void {
    for (const loop of this.#loops) loop.start();
  }

  /** The buffer's append path calls this once records are durable. Cheap; call it per append. */
  notify(): void {
    for (const loop of this.#loops) loop.notify();
  }

  status(): SinkStatus[] {
    return this.#loops.map((l) => l.status());
  }

  /** Stops every loop (in-flight batches settle, or are abandoned unacked after abandonAfterMs), then closes the sinks. */
  async stop(abandonAfterMs?: number): Promise<void> {
    await Promise.all(this.#loops.map((l) => l.stop(abandonAfterMs)));
    for (const sink of this.#sinks) {
      await sink.close().catch((e: unknown) => this.#log.warn({ err: e, sink: sink.name }, 'A sink did not close cleanly.'));
    }
  }
}
