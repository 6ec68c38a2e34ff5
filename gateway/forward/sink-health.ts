/**
 * What the lanes of one sink share: the circuit, the replay mark, counters
 * and the dead-letter file. A sink is one upstream, so a failure seen by the
 * alert lane says as much about it as one seen by the telemetry lane.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics.js';
import { Circuit } from './circuit.js';
import type { DeadLetterFile } from './dead-letter.js';

const CIRCUIT_GAUGE = { closed: 0, 'half-open': 1, open: 2 } as const;

export class SinkHealth {
  readonly sink: string;
  readonly circuit: Circuit;
  readonly deadLetter: DeadLetterFile;
  readonly #log: Logger;
  readonly #metrics: Metrics | undefined;
  /** Readings received at or before this were delayed by an outage: they go out marked `replay`. */
  replayBefore: number;
  lastError: { reason: string; at: number } | null = null;
  lastDeliveredAt: number | null = null;
  readonly counts = { records: 0, batches: 0, retries: 0, rejectedRecords: 0, rejectedBatches: 0, replayed: 0 };

  constructor(sink: string, openAfter: number, deadLetter: DeadLetterFile, log: Logger, metrics: Metrics | undefined, startedAt: number) {
    this.sink = sink;
    // What this process finds in the buffer from before it started was held up by the restart (or an outage before it).
    this.replayBefore = startedAt - 1;
    this.circuit = new Circuit(openAfter);
    this.deadLetter = deadLetter;
    this.#log = log;
    this.#metrics = metrics;
    this.#gauge();
  }

  attempting(): void {
    this.circuit.attempting();
    this.#gauge();
  }

  retried(reason: string, now: number): void {
    this.replayBefore = now;
    this.counts.retries++;
    this.lastError = { reason, at: now };
    this.#metrics?.forwardBatches.inc({ sink: this.sink, outcome: 'retry' });
    const opened = this.circuit.failed(now);
    this.#gauge();
    if (opened) this.#log.warn({ sink: this.sink, reason, failures: this.circuit.failures }, 'The sink keeps failing; circuit open, records wait in the buffer.');
  }

  /** The upstream answered (delivered or rejected). */
  answered(now: number): void {
    const outage = this.circuit.outageSince;
    if (this.circuit.succeeded()) {
      this.replayBefore = now;
      this.#log.info({ sink: this.sink, outageMs: outage === null ? 0 : now - outage }, 'The sink answers again; draining what queued up.');
    }
    this.#gauge();
  }

  delivered(records: number, replayed: number, now: number): void {
    this.counts.records += records;
    this.counts.batches++;
    this.counts.replayed += replayed;
    this.lastDeliveredAt = now;
    this.#metrics?.forwardBatches.inc({ sink: this.sink, outcome: 'delivered' });
    this.#metrics?.forwardRecords.inc({ sink: this.sink }, records);
    if (replayed) this.#metrics?.forwardReplayed.inc({ sink: this.sink }, replayed);
  }

  rejected(records: number): void {
    this.counts.rejectedBatches++;
    this.counts.rejectedRecords += records;
    this.#metrics?.forwardBatches.inc({ sink: this.sink, outcome: 'rejected' });
  }

  deadLettered(written: number, dropped: number): void {
    this.#metrics?.forwardDeadLettered.inc({ sink: this.sink }, written);
    if (dropped) this.#metrics?.forwardDeadLetterDropped.inc({ sink: this.sink }, dropped);
  }

  #gauge(): void {
    this.#metrics?.forwardCircuit.set({ sink: this.sink }, CIRCUIT_GAUGE[this.circuit.state]);
  }
}
