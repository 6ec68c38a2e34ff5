/**
 * An external MQTT broker (a Mosquitto already on the Pi) as a source: weir
 * subscribes as a client and ingests what matches its profiles. With QoS 1/2 the
 * PUBACK/PUBCOMP to that broker is held until ingestion has the data (MQTT.js
 * handleMessage), so a weir crash makes the broker redeliver.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Ingest, IngestError, Source } from '../../gateway/core/contracts.js';

export interface ExternalBrokerSettings {
  readonly name: string;
  readonly url: string;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  readonly subscribe: readonly string[];
  readonly qos: 0 | 1 | 2;
  readonly cleanSession: boolean;
  readonly ca?: string;
}

export class ExternalBrokerSource implements Source {
  readonly name: string;
  readonly #s: ExternalBrokerSettings;
  readonly #onState: (connected: boolean) => void;
  #client: MqttClient | undefined;

  constructor(settings: ExternalBrokerSettings, onState: (connected: boolean) => void = () => {}) {
    this.#s = settings;
    this.name = `mqtt:${settings.name}`;
    this.#onState = onState;
  }

  /** Resolves once connected and subscribed, or after the first failure (it keeps retrying). */
  start(ingest: Ingest, ingestError: IngestError): Promise<void> {
    const s = this.#s;
    const options: IClientOptions = {
      clientId: s.clientId,
      clean: s.cleanSession,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      ...(s.username !== undefined ? { username: s.username } : {}),
      ...(s.password !== undefined ? { password: s.password } : {}),
      ...(s.ca ? { ca: readFileSync(s.ca) } : {}),
    };
    const client = connect(s.url, options);
    this.#client = client;
    // Not customHandleAcks: MQTT.js honours it only with MQTT 5 and never for QoS 0, so 3.1.1
    // messages were acked and dropped. handleMessage sees every PUBLISH of any version and QoS,
    // and MQTT.js sends the PUBACK (QoS 1) or PUBCOMP (QoS 2) only after its callback.
    client.handleMessage = (packet, callback) => {
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      const pending = ingest({ source: this.name, address: packet.topic, payload, receivedAt: Date.now() });
      if (!pending) return callback();
      // a failed ingest withholds the ack (as before), so the broker redelivers after a reconnect
      pending.then(() => callback(), () => undefined);
    };
    return new Promise((resolve) => {
      let settled = false;
      const settle = () => {
        if (!settled) (settled = true), resolve();
      };
      client.on('connect', () => {
        (client.stream as Partial<Socket>).setNoDelay?.(true);
        this.#onState(true);
        // Subscribing again is harmless with a persistent session and picks up changed filters.
        client.subscribe([...s.subscribe], { qos: s.qos }, (err) => {
          if (err) ingestError({ source: this.name, code: 'SUBSCRIBE_FAILED', message: `cannot subscribe: ${err.message}` });
          settle();
        });
      });
      client.on('close', () => this.#onState(false));
      client.on('error', (err) => {
        ingestError({ source: this.name, code: 'UPSTREAM_UNREACHABLE', message: `external broker ${s.url}: ${err.message}` });
        settle();
      });
    });
  }

  /** Publishes through this connection (used when there is no embedded broker). */
  publish(topic: string, payload: string | Buffer, options: { qos: 0 | 1; retain: boolean }): void {
    this.#client?.publish(topic, payload, options);
  }

  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client) await client.endAsync();
  }
}
