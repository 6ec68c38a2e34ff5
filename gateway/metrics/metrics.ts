/**
 * The gateway's Prometheus metrics in one registry. Components get this object
 * and bump named series; nothing else creates metrics, so /metrics is the
 * complete list. Per-device series are capped so a misbehaving fleet cannot
 * grow memory without bound.
 */
import { Registry, Counter, Gauge, collectDefaultMetrics } from 'prom-client';
import { DeviceTable } from './device-table.js';
import { HotCounter } from './hot-counter.js';
import type { BufferStats } from '../core/contracts.js';

/** Device label cardinality cap; devices past it are counted under `_other`. */
const MAX_DEVICE_SERIES = 5000;

export class Metrics {
  readonly registry = new Registry();
  readonly devices = new DeviceTable(MAX_DEVICE_SERIES);

  readonly messagesIn = new HotCounter(this.registry, 'weir_messages_in_total', 'Frames received from sources.', 'source');
  readonly readingsOut = new HotCounter(this.registry, 'weir_readings_total', 'Normalized readings produced.', 'source');
  readonly decodeErrors = this.#counter('weir_decode_errors_total', 'Payloads a profile could not decode.', ['device', 'code']);
  readonly unrouted = this.#counter('weir_unrouted_total', 'Frames no device profile matched.', ['source']);
  readonly outOfRange = this.#counter('weir_out_of_range_total', 'Readings outside the range their profile declares.', ['device']);
  readonly republished = new HotCounter(this.registry, 'weir_republished_total', 'Readings republished on the broker.');
  readonly deadLettered = this.#counter('weir_dead_letter_total', 'Bad frames republished on the dead-letter topic.', []);
  readonly sourceProblems = this.#counter('weir_source_problems_total', 'Problems sources survived (reconnects, bad bytes).', ['source', 'code']);

  readonly connections = new Gauge({ name: 'weir_mqtt_connections', help: 'Open MQTT connections to the embedded broker.', registers: [this.registry] });
  readonly connectionsTotal = this.#counter('weir_mqtt_connections_total', 'MQTT connections accepted, by listener.', ['listener']);
  readonly limitHits = this.#counter('weir_limit_hits_total', 'Protective limits hit, by limit.', ['limit']);
  readonly aclDenied = this.#counter('weir_acl_denied_total', 'Publishes dropped and subscriptions refused by the ACL or reserved topics.', ['action']);
  readonly authFailures = this.#counter('weir_auth_failures_total', 'Refused MQTT connections, by reason.', ['reason']);
  readonly clientErrors = this.#counter('weir_mqtt_client_errors_total', 'Client connections closed on a protocol or socket error.', []);
  readonly forwardBatches = this.#counter('weir_forward_batches_total', 'Delivery attempts per sink, by outcome (delivered, retry, rejected).', ['sink', 'outcome']);
  readonly forwardRecords = this.#counter('weir_forward_records_total', 'Records a sink acknowledged.', ['sink']);
  readonly forwardReplayed = this.#counter('weir_forward_replayed_total', 'Records sent with the replay flag after an outage.', ['sink']);
  readonly forwardDeadLettered = this.#counter('weir_forward_dead_letter_records_total', 'Records a sink rejected, written to its dead-letter file.', ['sink']);
  readonly forwardDeadLetterDropped = this.#counter('weir_forward_dead_letter_dropped_total', 'Rejected records not written because the dead-letter file was at its cap.', ['sink']);
  readonly forwardCircuit = new Gauge({ name: 'weir_forward_circuit_state', help: 'Circuit per sink: 0 closed, 1 half-open, 2 open.', labelNames: ['sink'], registers: [this.registry] });
  readonly externalConnected = new Gauge({ name: 'weir_external_broker_connected', help: '1 while weir is connected to an external broker.', labelNames: ['broker'], registers: [this.registry] });

  readonly bufferBytesWritten = this.#counter('weir_buffer_written_bytes_total', 'Bytes the buffer wrote to disk: appends, compactions (SD card wear).', []);
  readonly bufferFsyncs = this.#counter('weir_buffer_fsyncs_total', 'fdatasync calls on buffer segments (each covers a group of appends).', []);
  readonly bufferDropped = this.#counter('weir_buffer_dropped_total', 'Records the buffer dropped or refused before every sink had them, by reason (max-bytes, max-age, rejected, corrupt) and kind.', ['reason', 'kind']);
  readonly bufferRecoveries = this.#counter('weir_buffer_recoveries_total', 'Damage the buffer found and recovered from, by what it was (torn-tail, corrupt).', ['found']);
  #bufferStats: (() => BufferStats) | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'weir_', eventLoopMonitoringPrecision: 20 });
    const devices = this.devices;
    new Gauge({
      name: 'weir_device_last_seen_age_seconds',
      help: 'Seconds since each device last produced a reading.',
      labelNames: ['device'],
      registers: [this.registry],
      collect() {
        this.reset();
        const now = Date.now();
        for (const [device, lastSeen] of devices.entries()) this.set({ device }, (now - lastSeen) / 1000);
      },
    });
    this.#bufferGauges();
  }

  /** The buffer registers its stats once open; its gauges read them at scrape time. Returns the unregister function. */
  watchBuffer(stats: () => BufferStats): () => void {
    this.#bufferStats = stats;
    return () => {
      if (this.#bufferStats === stats) this.#bufferStats = undefined;
    };
  }

  #bufferGauges(): void {
    const read = () => this.#bufferStats?.();
    const gauge = (name: string, help: string, value: (s: BufferStats) => number) =>
      new Gauge({ name, help, registers: [this.registry], collect() {
        const s = read();
        if (s) this.set(value(s));
      } });
    gauge('weir_buffer_records', 'Records in the buffer (delivered to some sinks or none).', (s) => s.records);
    gauge('weir_buffer_bytes', 'Bytes the buffer holds on disk.', (s) => s.bytes);
    const perSink = (name: string, help: string, value: (p: BufferStats['perSink'][string]) => number | null) =>
      new Gauge({ name, help, labelNames: ['sink'], registers: [this.registry], collect() {
        this.reset();
        const s = read();
        for (const [sink, p] of Object.entries(s?.perSink ?? {})) {
          const v = value(p);
          if (v !== null) this.set({ sink }, v);
        }
      } });
    perSink('weir_buffer_sink_lag_records', 'Records not yet delivered to each sink.', (p) => p.lag);
    perSink('weir_buffer_oldest_unsent_age_seconds', 'Age of the oldest record each sink has not had.', (p) => (p.oldestUnsentMs === null ? null : p.oldestUnsentMs / 1000));
    perSink('weir_buffer_drain_rate', 'Records per second each sink acknowledged over the last minute.', (p) => p.drainRate);
    perSink('weir_buffer_time_to_drain_seconds', 'Estimated seconds until each sink catches up at its current net drain rate (absent while not catching up).', (p) => (p.timeToDrainMs === null ? null : p.timeToDrainMs / 1000));
  }

  #counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}
