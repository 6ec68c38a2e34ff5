/**
 * One MQTT connection (MQTT.js) for one device, or shared by several in load
 * mode. MQTT.js's own reconnect runs at a fixed period, so it is off and this
 * link reconnects with backoff, keeping the outgoing store so QoS 1/2 messages
 * in flight survive the drop. Birth and death messages are retained.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { parseDuration } from '../../gateway/core/units.js';
import type { Outgoing } from '../fleet/device.js';
import type { Random } from '../random.js';
import type { MqttSettings } from '../scenario/schema.js';
import { backoffMs } from './backoff.js';
import type { Link, LinkEvents, SendDone } from './link.js';

export interface MqttLinkOptions {
  readonly name: string;
  readonly url: string;
  /** `{device}` in client id, birth and will topics: the device, or the link name when shared. */
  readonly device: string;
  readonly settings: MqttSettings;
  readonly random: Random;
  readonly events: LinkEvents;
  readonly connectTimeoutMs?: number;
  readonly stopTimeoutMs?: number;
}

export class MqttLink implements Link {
  readonly kind = 'mqtt';
  readonly name: string;
  readonly #o: MqttLinkOptions;
  #client: MqttClient | undefined;
  #held = false;
  #stopping = false;
  #attempt = 0;
  #everConnected = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: MqttLinkOptions) {
    this.#o = options;
    this.name = options.name;
  }

  get connected(): boolean {
    return this.#client?.connected === true;
  }

  start(): Promise<void> {
    const client = connect(this.#o.url, this.#clientOptions());
    this.#client = client;
    // every client needs an error listener; errors are counted, the close that follows reconnects
    client.on('error', (e) => this.#o.events.error(this, 'MQTT_ERROR', e.message));
    client.on('connect', () => this.#onConnect());
    client.on('close', () => this.#onClose());
    return new Promise((resolve) => {
      client.once('connect', () => resolve());
      client.once('close', () => resolve());
    });
  }

  send(out: Outgoing, done: SendDone): void {
    const client = this.#client;
    if (!client || this.#stopping) return done({ code: 'STOPPED', message: 'the link is stopping' });
    if (!client.connected && this.#o.settings.offline === 'drop') return done({ code: 'OFFLINE_DROPPED', message: 'not connected' });
    const qos = this.#o.settings.qos ?? 1;
    client.publish(out.topic ?? '', out.bytes, { qos }, (e) => done(e ? { code: 'PUBLISH_FAILED', message: e.message } : undefined));
  }

  down(): void {
    this.#held = true;
    clearTimeout(this.#timer);
    // destroy, not end: no DISCONNECT, so the broker publishes the will, as on a real outage
    this.#client?.stream?.destroy();
  }

  up(): void {
    if (!this.#held) return;
    this.#held = false;
    if (!this.connected) this.#reconnect();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    if (!client) return;
    const will = this.#o.settings.will;
    if (will && client.connected) {
      // the death message a clean shutdown publishes itself: the broker sends the will only on a lost link
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        client.publish(this.#fill(will.topic), will.payload ?? 'offline', { qos: will.qos ?? 1, retain: will.retain ?? true }, () => (clearTimeout(t), resolve()));
      });
    }
    if (!client.connected) return void (await new Promise<void>((resolve) => client.end(true, {}, () => resolve())));
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => client.end(true, {}, () => resolve()), this.#o.stopTimeoutMs ?? 2000);
      client.end(false, {}, () => (clearTimeout(t), resolve()));
    });
  }

  #onConnect(): void {
    const client = this.#client!;
    // MQTT.js does not set it; small telemetry messages should not wait for Nagle
    (client.stream as Socket | undefined)?.setNoDelay?.(true);
    const reconnect = this.#everConnected;
    this.#everConnected = true;
    this.#attempt = 0;
    const birth = this.#o.settings.birth;
    if (birth) client.publish(this.#fill(birth.topic), birth.payload ?? 'online', { qos: birth.qos ?? 1, retain: birth.retain ?? true });
    this.#o.events.connected(this, reconnect);
  }

  #onClose(): void {
    if (this.#stopping) return;
    this.#o.events.disconnected(this, this.#held ? 'link dropped' : 'connection closed');
    if (!this.#held) this.#schedule();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    const { initial, max } = this.#o.settings.reconnect ?? { initial: '250ms', max: '30s' };
    const wait = backoffMs(this.#attempt++, parseDuration(initial), parseDuration(max), this.#o.random);
    this.#timer = setTimeout(() => this.#reconnect(), wait);
    this.#timer.unref();
  }

  #reconnect(): void {
    const client = this.#client;
    if (!client || this.#stopping || this.#held || client.connected) return;
    // keep the stores: QoS 1/2 messages in flight are resent after the reconnect
    client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
  }

  #clientOptions(): IClientOptions {
    const s = this.#o.settings;
    const will = s.will;
    const tls = s.tls;
    return {
      clientId: this.#fill(s.clientId ?? 'sim-{device}'),
      clean: s.clean ?? true,
      keepalive: Math.round(parseDuration(s.keepalive ?? '30s') / 1000),
      reconnectPeriod: 0,
      connectTimeout: this.#o.connectTimeoutMs ?? 10_000,
      ...(s.username !== undefined ? { username: s.username } : {}),
      ...(s.password !== undefined ? { password: s.password } : {}),
      ...(will ? { will: { topic: this.#fill(will.topic), payload: Buffer.from(will.payload ?? 'offline'), qos: will.qos ?? 1, retain: will.retain ?? true } } : {}),
      ...(tls
        ? {
            rejectUnauthorized: tls.rejectUnauthorized ?? true,
            ...(tls.ca ? { ca: readFileSync(tls.ca) } : {}),
            ...(tls.cert ? { cert: readFileSync(tls.cert) } : {}),
            ...(tls.key ? { key: readFileSync(tls.key) } : {}),
          }
        : {}),
    };
  }

  #fill(template: string): string {
    return template.replaceAll('{device}', this.#o.device).replaceAll('{link}', this.name);
  }
}
