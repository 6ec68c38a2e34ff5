/**
 * Store-and-forward, composed: the durable buffer, one delivery loop per
 * configured sink, and the append path the pipeline and rules write to.
 * Without sinks there is nothing to hold records for, so no buffer is opened.
 */
import type { Logger } from 'pino';
import type { Clock, PipelineRecord, RecordBuffer } from '../core/contracts.js';
import type { Metrics } from '../metrics/metrics.js';
import type { WeirConfig } from '../config/schema.js';
import { openBuffer, bufferDir } from '../buffer/index.js';
import { Forwarder } from '../forward/forwarder.js';
import type { SinkStatus } from '../forward/sink-status.js';

export interface Forwarding {
  /** Resolves once the records are durable; the device's PUBACK waits on it. */
  append(records: readonly PipelineRecord[]): Promise<void>;
  status(): { buffer: ReturnType<RecordBuffer['stats']>; sinks: SinkStatus[] };
  stop(timeoutMs: number): Promise<void>;
}

export async function startForwarding(o: {
  config: WeirConfig;
  dataDir: string;
  baseDir: string;
  gatewayId: string;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
}): Promise<Forwarding | undefined> {
  if (o.config.sinks.length === 0) return undefined;
  // sink clients (Kafka, MQTT.js) load only when a sink is configured
  const { createSinks } = await import('../sinks/registry.js');
  const configured = createSinks(o.config.sinks, { gatewayId: o.gatewayId, baseDir: o.baseDir, clock: o.clock, log: o.log });
  const buffer = await openBuffer({
    dir: bufferDir(o.dataDir),
    config: o.config.buffer,
    sinks: configured.map((c) => c.sink.name),
    clock: o.clock,
    log: o.log,
    metrics: o.metrics,
  });
  const forwarder = new Forwarder({ buffer, sinks: configured, dataDir: o.dataDir, clock: o.clock, log: o.log.child({ component: 'forward' }), metrics: o.metrics });
  buffer.onDurable(() => forwarder.notify());
  forwarder.start();
  o.log.info({ sinks: configured.map((c) => c.sink.name) }, 'Forwarding to upstream sinks.');
  return {
    append: (records) => buffer.append(records),
    status: () => ({ buffer: buffer.stats(), sinks: forwarder.status() }),
    async stop(timeoutMs) {
      // the loops first (an in-flight batch may finish), then the buffer saves its cursors
      await forwarder.stop(timeoutMs / 2);
      await buffer.close();
    },
  };
}
