/**
 * The gateway's Prometheus metrics in one registry. Components get this object
 * and bump named series; nothing else creates metrics, so /metrics is the
 * complete list. Per-device series are capped so a misbehaving fleet cannot
 * grow memory without bound.
 */
import { Registry, Counter, Gauge, collectDefaultMetrics } from 'prom-client';
import { DeviceTable } from './device-table.js';

/** Device label cardinality cap; devices past it are counted under `_other`. */
const MAX_DEVICE_SERIES = 5000;

export class Metrics {
  readonly registry = new Registry();
  readonly devices = new DeviceTable(MAX_DEVICE_SERIES);

  readonly messagesIn = this.#counter('weir_messages_in_total', 'Frames received from sources.', ['source']);
  readonly readingsOut = this.#counter('weir_readings_total', 'Normalized readings produced.', ['source']);
  readonly decodeErrors = this.#counter('weir_decode_errors_total', 'Payloads a profile could not decode.', ['device', 'code']);
  readonly unrouted = this.#counter('weir_unrouted_total', 'Frames no device profile matched.', ['source']);
  readonly outOfRange = this.#counter('weir_out_of_range_total', 'Readings outside the range their profile declares.', ['device']);
  readonly republished = this.#counter('weir_republished_total', 'Readings republished on the broker.', []);
  readonly deadLettered = this.#counter('weir_dead_letter_total', 'Bad frames republished on the dead-letter topic.', []);
  readonly sourceProblems = this.#counter('weir_source_problems_total', 'Problems sources survived (reconnects, bad bytes).', ['source', 'code']);

  readonly connections = new Gauge({ name: 'weir_mqtt_connections', help: 'Open MQTT connections to the embedded broker.', registers: [this.registry] });
  readonly connectionsTotal = this.#counter('weir_mqtt_connections_total', 'MQTT connections accepted, by listener.', ['listener']);
  readonly limitHits = this.#counter('weir_limit_hits_total', 'Protective limits hit, by limit.', ['limit']);
  readonly aclDenied = this.#counter('weir_acl_denied_total', 'Publishes dropped and subscriptions refused by the ACL or reserved topics.', ['action']);
  readonly authFailures = this.#counter('weir_auth_failures_total', 'Refused MQTT connections, by reason.', ['reason']);
  readonly clientErrors = this.#counter('weir_mqtt_client_errors_total', 'Client connections closed on a protocol or socket error.', []);
  readonly externalConnected = new Gauge({ name: 'weir_external_broker_connected', help: '1 while weir is connected to an external broker.', labelNames: ['broker'], registers: [this.registry] });

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
  }

  #counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}
