/**
 * The delivery loop of one sink: drains the shared buffer at the sink's cursor
 * into the sink, at-least-once and in order per device. Vector's finalization
 * rule holds: a record is acknowledged to the buffer only after the sink
 * delivered it, or after it is fsynced into the dead-letter file with the
 * sink's rejection. See lane.ts for the per-batch rules.
 *
 * Live records leave at once: notify() (called by the buffer's append path)
 * wakes an idle lane, which lingers `linger` for company and sends.
 *
 * After an outage: the backlog drains at most `drainRate` records/s (so a
 * catch-up does not starve ingestion of disk, CPU and uplink), readings
 * delayed by the outage carry the `replay` flag (replay.ts), and alerts do not
 * wait behind it: with `alertLane` on, a second lane sends alerts through the
 * buffer's indexed priority lane, unpaced, while telemetry catches up. Readings
 * themselves stay strictly in log order (no live-first), so each device's
 * readings arrive in order.
 *
 * All waits use the injected clock; nothing throws from a timer.
 */
import type { Logger } from 'pino';
import type { Clock, RecordBuffer, Sink } from '../core/contracts.js';
import type { Metrics } from '../metrics/metrics.js';
import type { DeliverySettings } from './config.js';
import { DeadLetterFile } from './dead-letter.js';
import { Lane, type AlertMark } from './lane.js';
import { Pacer } from './pacer.js';
import { SinkHealth } from './sink-health.js';
import { iso, type SinkStatus } from './sink-status.js';

export interface DeliveryLoopOptions {
  readonly sink: Sink;
  /** The buffer itself, not the notifying wrapper producers use. */
  readonly buffer: RecordBuffer;
  readonly settings: DeliverySettings;
  /** The dead-letter file goes under dataDir/dead-letter/. */
  readonly dataDir: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics?: Metrics;
  /** Jitter source in [0, 1); tests inject a fixed one. */
  readonly random?: () => number;
}

export class DeliveryLoop {
  readonly name: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #health: SinkHealth;
  readonly #main: Lane;
  readonly #alerts: Lane | undefined;
  #running: Promise<void> | undefined;

  constructor(options: DeliveryLoopOptions) {
    const s = options.settings;
    this.name = options.sink.name;
    this.#clock = options.clock;
    this.#log = options.log;
    const deadLetter = new DeadLetterFile(options.dataDir, this.name, s.deadLetterMaxBytes);
    this.#health = new SinkHealth(this.name, s.circuitOpenAfter, deadLetter, options.log, options.metrics, options.clock.now());
    const alertMark: AlertMark = { settledUpTo: null };
    const lane = (role: 'all' | 'telemetry' | 'alerts') =>
      new Lane({
        role,
        sink: options.sink,
        buffer: options.buffer,
        settings: s,
        clock: options.clock,
        log: options.log,
        policy: { minMs: s.backoffMinMs, maxMs: s.backoffMaxMs, random: options.random ?? Math.random },
        health: this.#health,
        pacer: role === 'alerts' ? undefined : new Pacer(s.drainRate, s.batchSize, options.clock),
        alertMark,
      });
    this.#main = lane(s.alertLane ? 'telemetry' : 'all');
    this.#alerts = s.alertLane ? lane('alerts') : undefined;
  }

  start(): void {
    this.#running ??= Promise.all([this.#main, this.#alerts].map((l) => l?.run())).then(
      () => undefined,
      (e: unknown) => {
        // Only a bug gets here; say so loudly: records stay in the buffer, but this sink gets nothing.
        this.#log.error({ err: e, sink: this.name }, 'The delivery loop failed and stopped; records stay in the buffer.');
      },
    );
  }

  /** New records were appended: wake idle lanes now instead of at their next re-check. */
  notify(): void {
    this.#main.notify();
    this.#alerts?.notify();
  }

  /**
   * Stops after in-flight deliveries settle. With `abandonAfterMs`, stops
   * waiting after that long: in-flight batches stay unacknowledged and are
   * delivered again after the next start (at-least-once).
   */
  async stop(abandonAfterMs?: number): Promise<void> {
    this.#main.stop();
    this.#alerts?.stop();
    const running = this.#running;
    if (!running) return;
    if (abandonAfterMs === undefined) return running;
    const timedOut = await new Promise<boolean>((resolve) => {
      const t = this.#clock.setTimeout(() => resolve(true), abandonAfterMs);
      void running.then(() => (this.#clock.clearTimeout(t), resolve(false)));
    });
    if (timedOut) {
      this.#main.abandon();
      this.#alerts?.abandon();
      this.#log.warn({ sink: this.name }, 'Stopped with a delivery still in flight; its batch stays in the buffer.');
    }
  }

  status(): SinkStatus {
    const h = this.#health;
    const c = h.counts;
    const settled = this.#main.settled;
    return {
      name: this.name,
      state: this.#main.state,
      alertLane: this.#alerts?.state ?? null,
      circuit: h.circuit.state,
      consecutiveFailures: h.circuit.failures,
      outageSince: iso(h.circuit.outageSince),
      circuitOpenedAt: iso(h.circuit.openedAt),
      nextAttemptAt: iso(this.#main.nextAttemptAt ?? this.#alerts?.nextAttemptAt ?? null),
      lastError: h.lastError && { reason: h.lastError.reason, at: iso(h.lastError.at)! },
      lastDeliveredAt: iso(h.lastDeliveredAt),
      settledOffset: settled === null ? null : settled.toString(),
      delivered: { records: c.records, batches: c.batches },
      retries: c.retries,
      rejected: { records: c.rejectedRecords, batches: c.rejectedBatches },
      replayed: c.replayed,
      deadLetter: { file: h.deadLetter.path, records: h.deadLetter.written, dropped: h.deadLetter.dropped, bytes: h.deadLetter.bytes },
    };
  }
}
