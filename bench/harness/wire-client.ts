/**
 * A minimal MQTT 3.1.1 client on a raw TCP socket, framed by mqtt-packet. The
 * load generator must cost much less per message than the broker it measures;
 * MQTT.js spends about as much per message as aedes does, which would make the
 * client, not the broker, set the pace.
 */
import net from 'node:net';
import { parser, generate, type Packet } from 'mqtt-packet';
import type { ClientFactory, LoadClient } from './load-client.js';
import type { Telemetry } from './payloads.js';

const CONNECT_TIMEOUT_MS = 5000;

export class WireClient implements LoadClient {
  readonly #socket: net.Socket;
  readonly #parser = parser({ protocolVersion: 4 });
  #waiter: { cmd: string; resolve: (p: Packet) => void; reject: (e: Error) => void } | undefined;
  #error: Error | undefined;
  onPublish: (topic: string, payload: Buffer) => void = () => {};
  onPuback: () => void = () => {};
  onRead: () => void = () => {};

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#parser.parse(chunk);
      this.onRead();
    });
    socket.on('error', (e) => this.#fail(e));
    socket.on('close', () => this.#fail(new Error('connection closed')));
    this.#parser.on('error', (e: Error) => this.#fail(e));
    this.#parser.on('packet', (p: Packet) => {
      switch (p.cmd) {
        case 'publish':
          // deliveries are QoS 0 here; acknowledge anyway if a broker upgrades one
          if (p.qos === 1 && p.messageId !== undefined) socket.write(generate({ cmd: 'puback', messageId: p.messageId }));
          this.onPublish(p.topic, p.payload as Buffer);
          return;
        case 'puback':
          this.onPuback();
          return;
        default:
          if (this.#waiter?.cmd === p.cmd) {
            const w = this.#waiter;
            this.#waiter = undefined;
            w.resolve(p);
          }
      }
    });
  }

  static async connect(port: number, clientId: string): Promise<WireClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new WireClient(socket);
    const connack = await client.#request(
      { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 0 },
      'connack',
    );
    if (connack.cmd === 'connack' && connack.returnCode) throw new Error(`CONNACK return code ${connack.returnCode}`);
    return client;
  }

  async subscribe(filter: string, qos: 0 | 1): Promise<void> {
    const suback = await this.#request({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos }] }, 'suback');
    if (suback.cmd === 'suback' && suback.granted.some((g) => typeof g === 'number' && g >= 0x80)) {
      throw new Error(`subscription to ${filter} refused`);
    }
  }

  send(prepared: unknown): void {
    this.#socket.write(prepared as Buffer);
  }

  publish(topic: string, payload: Buffer, qos: 0 | 1, seq: number): void {
    this.#socket.write(encodePublish(topic, payload, qos, seq));
  }

  cork(): void {
    this.#socket.cork();
  }

  uncork(): void {
    this.#socket.uncork();
  }

  get error(): Error | undefined {
    return this.#error;
  }

  async close(): Promise<void> {
    if (this.#socket.destroyed) return;
    this.#error ??= new Error('closed by the benchmark');
    const closed = new Promise<void>((resolve) => this.#socket.once('close', () => resolve()));
    this.#socket.end(generate({ cmd: 'disconnect' }));
    const timer = setTimeout(() => this.#socket.destroy(), 2000);
    await closed;
    clearTimeout(timer);
  }

  #request(packet: Packet, answer: string): Promise<Packet> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${answer} within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      this.#waiter = {
        cmd: answer,
        resolve: (p) => (clearTimeout(timer), resolve(p)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
      this.#socket.write(generate(packet));
    });
  }

  #fail(e: Error): void {
    this.#error ??= e;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.reject(e);
  }
}

/** A PUBLISH ready to write; QoS 1 packet ids cycle through 1..65535. */
export function encodePublish(topic: string, payload: Buffer, qos: 0 | 1, seq: number): Buffer {
  return generate(
    qos === 0
      ? { cmd: 'publish', topic, payload, qos, retain: false, dup: false }
      : { cmd: 'publish', topic, payload, qos, retain: false, dup: false, messageId: (seq % 65535) + 1 },
  );
}

export const wireClients: ClientFactory = {
  name: 'wire',
  connect: (port, clientId) => WireClient.connect(port, clientId),
  prepare: (messages: readonly Telemetry[], qos) => messages.map((m, i) => encodePublish(m.topic, m.payload, qos, i)),
};
