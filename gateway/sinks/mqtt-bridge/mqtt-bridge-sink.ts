/**
 * The MQTT bridge sink: each record as JSON on an upstream broker at QoS 1
 * (or 2), over a persistent session (clean: false, a fixed client id), so the
 * upstream keeps our session across reconnects. A batch is delivered only
 * when every message of it has its PUBACK (PUBCOMP at QoS 2)
 * [MQTT-4.3.2-1]; anything less, including a connection that drops halfway,
 * is a retry of the whole batch. MQTT.js may also resend its own unacked
 * messages after reconnecting [MQTT-4.4.0-1], so an outage can duplicate up
 * to one batch; consumers deduplicate by record id.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Clock, DeliveryOutcome, PipelineRecord, Sink } from '../../core/contracts.js';
import { WeirError } from '../../core/errors.js';
import { parseDuration } from '../../core/units.js';
import type { MqttBridgeSinkConfig } from './config.js';
import { compileTopic, type TopicFor } from './topic-template.js';

export interface MqttBridgeSinkOptions {
  readonly gatewayId: string;
  /** TLS file paths are relative to the config file. */
  readonly baseDir: string;
  readonly clock: Clock;
  readonly log: Logger;
}

export class MqttBridgeSink implements Sink {
  readonly name: string;
  readonly #client: MqttClient;
  readonly #topic: TopicFor;
  readonly #alertTopic: TopicFor;
  readonly #qos: 1 | 2;
  readonly #ackTimeoutMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  #lastError: string | undefined;
  #wasConnected = false;

  /** Connects in the background: an unreachable upstream at boot is an outage to ride out, not a boot failure. */
  constructor(config: MqttBridgeSinkConfig, options: MqttBridgeSinkOptions) {
    this.name = config.name;
    this.#topic = compileTopic(config.topic, options.gatewayId);
    this.#alertTopic = config.alertTopic ? compileTopic(config.alertTopic, options.gatewayId) : this.#topic;
    this.#qos = config.qos;
    this.#ackTimeoutMs = parseDuration(config.ackTimeout);
    this.#clock = options.clock;
    this.#log = options.log;
    const mqttOptions: IClientOptions = {
      clientId: config.clientId ?? `weir-${options.gatewayId}-${config.name}`,
      clean: false,
      keepalive: Math.max(1, Math.round(parseDuration(config.keepalive) / 1000)),
      connectTimeout: parseDuration(config.connectTimeout),
      reconnectPeriod: Math.max(100, parseDuration(config.reconnectPeriod)),
      rejectUnauthorized: config.rejectUnauthorized,
      ...(config.username !== undefined ? { username: config.username } : {}),
      ...(config.password !== undefined ? { password: config.password } : {}),
      ...tlsFiles(config, options.baseDir),
    };
    this.#client = connect(config.url, mqttOptions);
    this.#client.on('connect', () => {
      this.#wasConnected = true;
      this.#lastError = undefined;
      this.#log.info({ url: config.url }, 'Connected to the upstream broker.');
    });
    this.#client.on('close', () => {
      if (this.#wasConnected) this.#log.warn({ url: config.url, reason: this.#lastError }, 'Lost the upstream broker; records wait in the buffer.');
      this.#wasConnected = false;
    });
    // Errors arrive as events; the delivery loop sees them as retries with this reason.
    this.#client.on('error', (err) => (this.#lastError = err.message));
  }

  get connected(): boolean {
    return this.#client.connected;
  }

  deliver(batch: readonly PipelineRecord[]): Promise<DeliveryOutcome> {
    const client = this.#client;
    if (!client.connected) {
      return Promise.resolve({ kind: 'retry', reason: `not connected to the upstream broker${this.#lastError ? `: ${this.#lastError}` : ''}` });
    }
    return new Promise((resolvePromise) => {
      let remaining = batch.length;
      let settled = false;
      const finish = (outcome: DeliveryOutcome) => {
        if (settled) return;
        settled = true;
        this.#clock.clearTimeout(timer);
        client.off('close', onClose);
        resolvePromise(outcome);
      };
      const onClose = () => finish({ kind: 'retry', reason: `connection closed with ${remaining} of ${batch.length} messages unacknowledged` });
      const timer = this.#clock.setTimeout(
        () => finish({ kind: 'retry', reason: `${remaining} of ${batch.length} messages not acknowledged within ${this.#ackTimeoutMs} ms` }),
        this.#ackTimeoutMs,
      );
      client.on('close', onClose);
      for (const record of batch) {
        const topic = record.kind === 'alert' ? this.#alertTopic(record) : this.#topic(record);
        // MQTT.js calls back on PUBACK (QoS 1) or PUBCOMP (QoS 2), or with an error.
        client.publish(topic, JSON.stringify(record), { qos: this.#qos, retain: false }, (err) => {
          if (err) finish({ kind: 'retry', reason: `publish failed: ${err.message}` });
          else if (--remaining === 0) finish({ kind: 'delivered' });
        });
      }
    });
  }

  /** Ends the session politely when connected; a dead connection is just dropped. */
  async close(): Promise<void> {
    await this.#client.endAsync(!this.#client.connected);
  }
}

function tlsFiles(config: MqttBridgeSinkConfig, baseDir: string): Partial<IClientOptions> {
  const read = (file: string) => {
    try {
      return readFileSync(resolve(baseDir, file));
    } catch (e) {
      throw new WeirError('TLS_FILES_UNREADABLE', `sink ${config.name}: cannot read ${file}`, { cause: e });
    }
  };
  return {
    ...(config.ca ? { ca: read(config.ca) } : {}),
    ...(config.cert ? { cert: read(config.cert) } : {}),
    ...(config.key ? { key: read(config.key) } : {}),
  };
}
