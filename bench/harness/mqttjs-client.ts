/**
 * MQTT.js (the client most Node users would reach for) behind the same
 * interface as the raw-socket client, to measure how much it limits the
 * figures. Each `publish` is one MQTT.js call: it encodes at send time.
 */
import { connect, type MqttClient } from 'mqtt';
import { Socket } from 'node:net';
import type { ClientFactory, LoadClient } from './load-client.js';
import type { Telemetry } from './payloads.js';

class MqttJsClient implements LoadClient {
  readonly #client: MqttClient;
  onPublish: (topic: string, payload: Buffer) => void = () => {};
  onPuback: () => void = () => {};
  onRead: () => void = () => {};
  #error: Error | undefined;
  readonly #acked = (e?: Error) => {
    if (e) this.#error ??= e;
    this.onPuback();
    this.onRead();
  };
  readonly #sent = () => this.onRead();

  constructor(client: MqttClient) {
    this.#client = client;
    client.on('message', (topic, payload) => {
      this.onPublish(topic, payload);
      this.onRead();
    });
    client.on('error', (e) => (this.#error ??= e));
    client.on('close', () => (this.#error ??= new Error('connection closed')));
    if (client.stream instanceof Socket) client.stream.setNoDelay(true);
  }

  get error(): Error | undefined {
    return this.#error;
  }

  async subscribe(filter: string, qos: 0 | 1): Promise<void> {
    const granted = await this.#client.subscribeAsync(filter, { qos });
    if (granted.some((g) => g.qos === 128)) throw new Error(`subscription to ${filter} refused`);
  }

  send(prepared: unknown): void {
    const m = prepared as Telemetry & { qos: 0 | 1 };
    this.publish(m.topic, m.payload, m.qos);
  }

  publish(topic: string, payload: Buffer, qos: 0 | 1): void {
    this.#client.publish(topic, payload, { qos }, qos === 1 ? this.#acked : this.#sent);
  }

  cork(): void {}

  uncork(): void {}

  async close(): Promise<void> {
    this.#error ??= new Error('closed by the benchmark');
    await this.#client.endAsync();
  }
}

export const mqttJsClients: ClientFactory = {
  name: 'mqttjs',
  async connect(port, clientId) {
    const client = connect({ host: '127.0.0.1', port, clientId, clean: true, keepalive: 0, reconnectPeriod: 0, protocolVersion: 4 });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    return new MqttJsClient(client);
  },
  prepare: (messages, qos) => messages.map((m) => ({ ...m, qos })),
};
